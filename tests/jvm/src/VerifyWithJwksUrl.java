import com.auth0.jwk.Jwk;
import com.auth0.jwk.UrlJwkProvider;
import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.interfaces.DecodedJWT;
import java.net.URI;
import java.net.URL;
import java.security.interfaces.RSAPublicKey;

/**
 * Verifies a token the way OpenMetadata's JwtFilter does with one entry of publicKeyUrls:
 * the entry becomes a URL with URI.create(s).toURL() and a jwks-rsa UrlJwkProvider
 * (MultiUrlJwkProvider builds one per entry), the key is looked up by the token's kid, and the
 * signature is checked with java-jwt's RSA256 (the versions OpenMetadata's pom.xml pins:
 * jwks-rsa 0.22.1, java-jwt 4.4.0). Prints "verified", or "refused: " and the exception's
 * class (never the token), one line per token; exits 0 either way.
 *
 * Usage: VerifyWithJwksUrl URL TOKEN...
 */
public final class VerifyWithJwksUrl {
  public static void main(String[] args) throws Exception {
    URL url = URI.create(args[0]).toURL();
    UrlJwkProvider provider = new UrlJwkProvider(url);
    for (int i = 1; i < args.length; i++) {
      try {
        DecodedJWT jwt = JWT.decode(args[i]);
        Jwk jwk = provider.get(jwt.getKeyId());
        Algorithm.RSA256((RSAPublicKey) jwk.getPublicKey(), null).verify(jwt);
        System.out.println("verified");
      } catch (Exception e) {
        System.out.println("refused: " + e.getClass().getSimpleName());
      }
    }
  }
}
