// Seals a connection credential the way the admin API does (contract's SecretSealer, the stack's
// PORTCULLIS_SECRET_KEY), for the demo Kubernetes connections the admin API cannot register yet.
// Usage: PORTCULLIS_SECRET_KEY=... java -cp contract.jar SealCredential.java CONNECTION < credential
// Prints the sealed bytes in base64; the credential is read from stdin, never from the command line.
import dev.portcullis.contract.SecretSealer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

public class SealCredential {
    public static void main(String[] args) throws Exception {
        String credential = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        byte[] sealed = SecretSealer.fromBase64Key(System.getenv("PORTCULLIS_SECRET_KEY")).seal(args[0], credential);
        System.out.println(Base64.getEncoder().encodeToString(sealed));
    }
}
