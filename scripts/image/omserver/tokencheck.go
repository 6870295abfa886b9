package main

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// tokenChecker is JwtFilter's check of a bearer token's signature, as far as the operator's key
// rotation grace window depends on it: which keys verify a token, from where, and how long a key
// once found keeps verifying.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/security/JwtFilter.java
// @ 00d5d7d6: the filter builds one provider per publicKeyUrls entry with
// URI.create(url).toURL() (no scheme filter, so `file:` URLs are opened like any other) and hands
// them to MultiUrlJwkProvider with the server's own key as the local provider.
//
// OpenMetadata .../security/MultiUrlJwkProvider.java @ 06c47971: get(kid) goes through a Guava
// cache (maximumSize(10), expireAfterWrite(24, HOURS); only keys found are cached) whose loader
// tries the local provider first, then each URL's jwks-rsa UrlJwkProvider in order, moving on when
// one fails (a missing or unreadable document is a NetworkException, a document without the kid a
// SigningKeyNotFoundException, both SigningKeyNotFoundExceptions); when none has it, the filter
// answers 401 "Token signing key not found in configured public keys". jwks-rsa 0.22.1's
// UrlJwkProvider (auth0/jwks-rsa-java, tag commit 683d97db) reads the document through
// URL.openConnection() and finds the key whose "kid" equals the token's.
//
// Bot tokens (an isBot claim, true) must also equal the token stored for the bot (bots, when the
// release keeps bots in the database: 1.10 and later; see check).
//
// Not transcribed: claims other than exp and isBot (issuer, personal-access-token and session
// lookups in the database), other algorithms than RS256, and fetching http(s) URLs that are not
// on loopback: the stand-in runs in test pods that must send nothing off the node, so such an entry
// counts as a document that could not be read (as an unreachable provider does upstream), and the
// log says so.
type tokenChecker struct {
	own    *rsa.PublicKey
	ownKid *string
	urls   []string
	now    func() time.Time

	// bots is the BotTokenCache (nil: no bots, up to 1.9 where the stand-in keeps no database);
	// principalClaims is authenticationConfiguration.jwtPrincipalClaims, which names the bot.
	bots            *botTokenCache
	principalClaims []string

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key     *rsa.PublicKey
	expires time.Time
}

const (
	keyCacheSize = 10
	keyCacheTTL  = 24 * time.Hour
)

func newTokenChecker(generator tokenGenerator, publicKeyURLs []string) *tokenChecker {
	return &tokenChecker{
		own:    generator.publicKey,
		ownKid: generator.kid,
		urls:   publicKeyURLs,
		now:    time.Now,
		cache:  map[string]cachedKey{},
	}
}

// errKeyNotFound is the filter's 401 for a kid no provider has.
var errKeyNotFound = errors.New("Token signing key not found in configured public keys")

// check verifies a bearer token: its RS256 signature with the key its kid names, and its exp;
// then, for a bot token, that it is the bot's stored token. The returned subject is the token's
// `sub`.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/security/JwtFilter.java
// @ 1aa230fdb9666e5fbaa511f2cff3bb84feffce22 (Jason-Clark-FG/OpenMetadata-Mirror, the newest stored
// copy): after validateJwtAndGetClaims, the user name is resolved from the claims (botUserName),
// then checkValidationsForToken calls validateBotToken(token, userName) when isBot(claims) and the
// request impersonates nobody: tokenFromHeader.equals(BotTokenCache.getToken(userName)), otherwise
// AuthenticationException.getInvalidTokenException("The given token does not match the current
// bot's token!"), a 401. Impersonation (X-Impersonate-User) is not emulated.
func (c *tokenChecker) check(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("Invalid token")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims struct {
		Sub string `json:"sub"`
		Exp *int64 `json:"exp"`
	}
	if decodeTokenPart(parts[0], &header) != nil || decodeTokenPart(parts[1], &claims) != nil || header.Alg != "RS256" {
		return "", errors.New("Invalid token")
	}
	key, err := c.key(header.Kid)
	if err != nil {
		return "", err
	}
	signature, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", errors.New("Invalid token")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], signature) != nil {
		return "", errors.New("Invalid token")
	}
	if claims.Exp != nil && c.now().Unix() >= *claims.Exp {
		return "", errors.New("Expired token!")
	}
	if c.bots != nil {
		var all map[string]any
		if decodeTokenPart(parts[1], &all) != nil {
			return "", errors.New("Invalid token")
		}
		if isBotClaim(all) {
			name, err := botUserName(all, c.principalClaims)
			if err != nil {
				return "", err
			}
			if stored, ok := c.bots.token(name); !ok || stored != token {
				return "", errBotTokenMismatch
			}
		}
	}
	return claims.Sub, nil
}

// key is MultiUrlJwkProvider.get(kid): the cache, then the local provider, then each URL.
func (c *tokenChecker) key(kid string) (*rsa.PublicKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hit, ok := c.cache[kid]; ok && c.now().Before(hit.expires) {
		return hit.key, nil
	}
	key := c.load(kid)
	if key == nil {
		return nil, errKeyNotFound
	}
	if len(c.cache) >= keyCacheSize {
		c.evictOldest()
	}
	c.cache[kid] = cachedKey{key: key, expires: c.now().Add(keyCacheTTL)}
	return key, nil
}

func (c *tokenChecker) evictOldest() {
	oldest := ""
	for kid, hit := range c.cache {
		if oldest == "" || hit.expires.Before(c.cache[oldest].expires) {
			oldest = kid
		}
	}
	delete(c.cache, oldest)
}

func (c *tokenChecker) load(kid string) *rsa.PublicKey {
	if c.own != nil && c.ownKid != nil && *c.ownKid == kid {
		return c.own
	}
	for _, u := range c.urls {
		doc, err := readJWKS(u)
		if err != nil {
			logDebug("public key URL %s: %v", u, err)
			continue
		}
		if key := findKey(doc, kid); key != nil {
			return key
		}
	}
	return nil
}

// readJWKS reads a JWKS document as UrlJwkProvider does, for `file:` URLs and http URLs on
// loopback (see tokenChecker).
func readJWKS(raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		return os.ReadFile(u.Path)
	case "http":
		if host := u.Hostname(); host != "localhost" && host != "127.0.0.1" {
			return nil, fmt.Errorf("not fetched: the stand-in reads only file: and loopback URLs")
		}
		client := http.Client{Timeout: 5 * time.Second}
		resp, err := client.Get(raw)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 256*1024))
	default:
		return nil, fmt.Errorf("not fetched: the stand-in reads only file: and loopback URLs")
	}
}

// findKey is UrlJwkProvider.get(kid): the RSA key whose kid matches.
func findKey(doc []byte, kid string) *rsa.PublicKey {
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
			Kty string `json:"kty"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if json.Unmarshal(doc, &jwks) != nil {
		return nil
	}
	for _, k := range jwks.Keys {
		if k.Kid != kid || k.Kty != "RSA" {
			continue
		}
		n, errN := decodeB64URL(k.N)
		e, errE := decodeB64URL(k.E)
		if errN != nil || errE != nil {
			return nil
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return nil
}

// decodeB64URL takes base64url with or without padding, as jwks-rsa's decoder does.
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func decodeTokenPart(part string, into any) error {
	raw, err := decodeB64URL(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}

// loggedInUserHandler is an authenticated endpoint (GET /api/v1/users/loggedInUser) as far as the
// filter goes: 401 with the filter's message, or 200 with the token's subject. The stand-in keeps
// no users.
func loggedInUserHandler(c *tokenChecker) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeJSON(w, http.StatusUnauthorized, []byte(`{"code":401,"message":"Not Authorized! Token not present"}`))
			return
		}
		sub, err := c.check(strings.TrimSpace(token))
		if err != nil {
			body, _ := json.Marshal(map[string]any{"code": 401, "message": err.Error()})
			writeJSON(w, http.StatusUnauthorized, body)
			return
		}
		body, _ := json.Marshal(map[string]string{"name": sub})
		writeJSON(w, http.StatusOK, body)
	}
}
