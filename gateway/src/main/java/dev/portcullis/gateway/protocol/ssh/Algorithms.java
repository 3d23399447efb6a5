package dev.portcullis.gateway.protocol.ssh;

import java.util.List;
import org.apache.sshd.common.BaseBuilder;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.compression.BuiltinCompressions;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.mac.BuiltinMacs;
import org.apache.sshd.common.mac.Mac;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;

/**
 * The only algorithms the gateway speaks, towards clients and towards targets alike: curve25519 key exchange,
 * ChaCha20-Poly1305 or AES-GCM, encrypt-then-MAC MACs (for the rare peer without an AEAD cipher), ed25519, ECDSA and
 * RSA-SHA2 keys and their certificates. Nothing with SHA-1, CBC, DSA or plain RSA: a peer that offers only those cannot
 * connect.
 */
final class Algorithms {
    static final List<BuiltinCiphers> CIPHERS = List.of(BuiltinCiphers.cc20p1305_openssh, BuiltinCiphers.aes256gcm, BuiltinCiphers.aes128gcm);
    static final List<BuiltinMacs> MACS = List.of(BuiltinMacs.hmacsha512etm, BuiltinMacs.hmacsha256etm);
    static final List<BuiltinSignatures> SIGNATURES = List.of(BuiltinSignatures.ed25519, BuiltinSignatures.ed25519_cert,
            BuiltinSignatures.nistp256, BuiltinSignatures.nistp256_cert, BuiltinSignatures.nistp384, BuiltinSignatures.nistp384_cert,
            BuiltinSignatures.nistp521, BuiltinSignatures.nistp521_cert, BuiltinSignatures.rsaSHA512, BuiltinSignatures.rsaSHA512_cert,
            BuiltinSignatures.rsaSHA256, BuiltinSignatures.rsaSHA256_cert);
    static final List<BuiltinDHFactories> KEY_EXCHANGES = List.of(BuiltinDHFactories.curve25519, BuiltinDHFactories.curve25519_libssh);

    private Algorithms() {
    }

    /** Applies the gateway's algorithms to a server or client builder. */
    static <B extends BaseBuilder<?, B>> B apply(B builder, java.util.function.Function<org.apache.sshd.common.kex.DHFactory,
            org.apache.sshd.common.kex.KeyExchangeFactory> kex) {
        return builder.cipherFactories(List.<NamedFactory<Cipher>>copyOf(CIPHERS))
                .macFactories(List.<NamedFactory<Mac>>copyOf(MACS))
                .signatureFactories(List.<NamedFactory<Signature>>copyOf(SIGNATURES))
                .compressionFactories(List.of(BuiltinCompressions.none))
                .keyExchangeFactories(NamedFactory.setUpTransformedFactories(false, KEY_EXCHANGES, kex));
    }
}
