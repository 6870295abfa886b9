import java.io.InputStream;
import java.net.URL;

/**
 * Fetches a URL with the JVM's default TLS settings, as OpenMetadata's server fetches a
 * provider's discovery document and JWKS (HttpsURLConnection, the default SSLContext). Prints
 * the byte count, or the failure and exits 1.
 */
public final class FetchUrl {
  public static void main(String[] args) {
    try (InputStream in = new URL(args[0]).openStream()) {
      System.out.println("fetched " + in.readAllBytes().length + " bytes");
    } catch (Exception e) {
      System.out.println("failed: " + e);
      System.exit(1);
    }
  }
}
