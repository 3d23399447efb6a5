package dev.portcullis.gateway.testing;

import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A byte-level PostgreSQL client for the cases real clients never produce: malformed frames, absurd lengths,
 * early EOF. It also keeps every byte it received, so tests can prove what never reached a client.
 */
public final class RawPgClient implements AutoCloseable {
    private final Socket plain;
    private Socket socket;
    private DataInputStream in;
    private OutputStream out;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private boolean recording = true;

    public record Message(char type, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** Fields of an ErrorResponse or NoticeResponse by code. */
        public Map<Character, String> fields() {
            Map<Character, String> f = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                f.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return f;
        }
    }

    public RawPgClient(int port) throws IOException {
        plain = new Socket(TestStack.host(), port);
        plain.setSoTimeout(15_000);
        socket = plain;
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** SSLRequest and the TLS handshake (any certificate accepted: the test is about the protocol, not PKI). */
    public RawPgClient tls() throws Exception {
        out.write(ByteBuffer.allocate(8).putInt(8).putInt(80877103).array());
        out.flush();
        int answer = in.read();
        if (answer != 'S') {
            throw new IllegalStateException("server refused TLS: " + answer);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] c, String a) {
            }

            public void checkServerTrusted(X509Certificate[] c, String a) {
            }

            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        SSLSocket ssl = (SSLSocket) ctx.getSocketFactory().createSocket(plain, TestStack.host(), plain.getPort(), true);
        ssl.startHandshake();
        socket = ssl;
        in = new DataInputStream(ssl.getInputStream());
        out = ssl.getOutputStream();
        return this;
    }

    public void startup(String user, String database) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(ByteBuffer.allocate(4).putInt(196608).array());
        for (String s : new String[] {"user", user, "database", database}) {
            body.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            body.write(0);
        }
        body.write(0);
        out.write(ByteBuffer.allocate(4).putInt(body.size() + 4).array());
        out.write(body.toByteArray());
        out.flush();
    }

    public void send(char type, byte[] body) throws IOException {
        out.write(ByteBuffer.allocate(5).put((byte) type).putInt(body.length + 4).array());
        out.write(body);
        out.flush();
    }

    public void sendString(char type, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        send(type, z);
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Startup and token; reads until ReadyForQuery or an error. */
    public List<Message> login(String database, String token) throws Exception {
        return login(database, TestStack.userOf(token), token);
    }

    /** Startup as {@code user} and token; reads until ReadyForQuery or an error. */
    public List<Message> login(String database, String user, String token) throws Exception {
        tls();
        startup(user, database);
        Message auth = read();
        if (auth.type() != 'R') {
            return List.of(auth);
        }
        sendString('p', token);
        return readUntil('Z');
    }

    /** One byte, as in the single-byte answers to SSLRequest and GSSENCRequest. */
    public int readByte() throws IOException {
        return in.read();
    }

    public Message read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int length = in.readInt();
        byte[] body = new byte[length - 4];
        in.readFully(body);
        if (recording) {
            received.write(type);
            received.writeBytes(ByteBuffer.allocate(4).putInt(length).array());
            received.writeBytes(body);
        }
        return new Message(type, body);
    }

    /** Reads until a message of {@code type}, an ErrorResponse with severity FATAL, or the end of the stream. */
    public List<Message> readUntil(char type) throws IOException {
        List<Message> messages = new ArrayList<>();
        while (true) {
            Message m;
            try {
                m = read();
            } catch (EOFException e) {
                return messages;
            }
            messages.add(m);
            if (m.type() == type || (m.type() == 'E' && "FATAL".equals(m.fields().get('S')))) {
                return messages;
            }
        }
    }

    /** True when the server closed the connection (EOF) within the socket timeout. */
    public boolean closedByServer() throws IOException {
        try {
            while (true) {
                read();
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Stops keeping what is read (for results too large to keep). */
    public RawPgClient withoutRecording() {
        recording = false;
        return this;
    }

    public byte[] receivedBytes() {
        return received.toByteArray();
    }

    /** Closes the TCP connection under TLS at once, even while another thread is blocked writing to it. */
    public void abort() throws IOException {
        plain.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
