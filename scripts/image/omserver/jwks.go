package main

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
)

// tokenGenerator holds what JWTTokenGenerator holds after init(): the key pair, the issuer and the
// key id, or nothing when the key files did not load (jwtgen.go signs with it).
type tokenGenerator struct {
	privateKey *rsa.PrivateKey
	publicKey  *rsa.PublicKey
	issuer     string
	kid        *string
}

// loadTokenGenerator is JWTTokenGenerator.init(jwtTokenConfiguration), run once at start (a
// changed key file needs a restart, as upstream).
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/security/jwt/JWTTokenGenerator.java
// @ 01d723db4ec7af898cbeba648902f70c821ff2d4: init() loads only when both paths are non-null and
// non-empty; it reads the private key file first (PKCS#8, KeyFactory "RSA"), then the public key
// file (X.509 SubjectPublicKeyInfo, KeyFactory "RSA"), and only then sets the issuer and the kid
// (keyId). Any exception is caught and only logged as "Failed to initialize JWTTokenGenerator ",
// so the server starts with publicKey null. Relative paths resolve against the working directory
// (the server runs in /opt/openmetadata, where the template's ./conf/*.der defaults point).
func loadTokenGenerator(cfg jwtConfig) tokenGenerator {
	if cfg.privateKeyPath == "" || cfg.publicKeyPath == "" {
		return tokenGenerator{}
	}
	private, pub, err := readKeys(cfg.privateKeyPath, cfg.publicKeyPath)
	if err != nil {
		logError("Failed to initialize JWTTokenGenerator %v", err)
		return tokenGenerator{}
	}
	return tokenGenerator{privateKey: private, publicKey: pub, issuer: cfg.issuer, kid: cfg.keyID}
}

func readKeys(privatePath, publicPath string) (*rsa.PrivateKey, *rsa.PublicKey, error) {
	privateDER, err := os.ReadFile(privatePath)
	if err != nil {
		return nil, nil, err
	}
	private, err := x509.ParsePKCS8PrivateKey(privateDER)
	if err != nil {
		return nil, nil, fmt.Errorf("java.security.spec.InvalidKeySpecException: %w", err)
	}
	rsaPrivate, ok := private.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("java.security.spec.InvalidKeySpecException: not an RSA private key")
	}
	publicDER, err := os.ReadFile(publicPath)
	if err != nil {
		return nil, nil, err
	}
	public, err := x509.ParsePKIXPublicKey(publicDER)
	if err != nil {
		return nil, nil, fmt.Errorf("java.security.spec.InvalidKeySpecException: %w", err)
	}
	rsaPublic, ok := public.(*rsa.PublicKey)
	if !ok {
		return nil, nil, fmt.Errorf("java.security.spec.InvalidKeySpecException: not an RSA public key")
	}
	return rsaPrivate, rsaPublic, nil
}

// jwksKey is JWKSKey: field order kty, kid, n, e, alg, use; alg and use are fixed.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/security/jwt/JWKSKey.java
// @ 210d8d5e1f5ffd5b2f03acd1b0cda28fac1f3551: alg = "RS256", use = "sig" (field initialisers);
// no @JsonInclude, so unset fields are written as null (openmetadata-server-behaviour.md §3.3).
type jwksKey struct {
	Kty *string `json:"kty"`
	Kid *string `json:"kid"`
	N   *string `json:"n"`
	E   *string `json:"e"`
	Alg string  `json:"alg"`
	Use string  `json:"use"`
}

// jwksResponse is JWKSResponse.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/security/jwt/JWKSResponse.java
// @ 4d112df9f0b5bda66c4e2576e68471035978a286: the list is written under "keys".
type jwksResponse struct {
	Keys []jwksKey `json:"keys"`
}

// jwks is JWTTokenGenerator.getJWKSResponse(): exactly one key; when publicKey is null it is a
// key object with only alg and use set.
//
// OpenMetadata .../security/jwt/JWTTokenGenerator.java @ 01d723db4ec7af898cbeba648902f70c821ff2d4:
// kid = the configured keyId, kty = publicKey.getAlgorithm() ("RSA"), n and e =
// Base64.getUrlEncoder() (base64url WITH padding) of getModulus().toByteArray() and
// getPublicExponent().toByteArray() (two's complement: a leading 0x00 when the top bit is set).
func (g tokenGenerator) jwks() []byte {
	key := jwksKey{Alg: "RS256", Use: "sig"}
	if g.publicKey != nil {
		kty := "RSA"
		n := base64.URLEncoding.EncodeToString(javaByteArray(g.publicKey.N))
		e := base64.URLEncoding.EncodeToString(javaByteArray(big.NewInt(int64(g.publicKey.E))))
		key.Kty, key.Kid, key.N, key.E = &kty, g.kid, &n, &e
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(jwksResponse{Keys: []jwksKey{key}})
	return bytes.TrimRight(b.Bytes(), "\n")
}

// javaByteArray is BigInteger.toByteArray() for a non-negative integer: the minimal big-endian
// two's-complement form, so a zero byte first when the top bit of the first byte is set, and
// [0] for zero.
func javaByteArray(i *big.Int) []byte {
	b := i.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}
