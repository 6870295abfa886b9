package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sign(t *testing.T, k *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		raw, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	input := enc(map[string]string{"alg": "RS256", "kid": kid}) + "." + enc(claims)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// writeJWKS writes the operator's retired_jwks.json shape (unpadded n/e, and its exp member).
func writeJWKS(t *testing.T, path string, keys map[string]*rsa.PrivateKey) {
	t.Helper()
	doc := map[string][]map[string]any{"keys": {}}
	for kid, k := range keys {
		doc["keys"] = append(doc["keys"], map[string]any{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "exp": 1,
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		})
	}
	raw, _ := json.Marshal(doc)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTokensVerifyWithTheOwnKeyThenEachPublicKeyURLAndKeysStayCached(t *testing.T) {
	own, retired, stranger := newKey(t), newKey(t), newKey(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "retired_jwks.json")
	writeJWKS(t, file, map[string]*rsa.PrivateKey{"old": retired})
	ownKid := "current"
	urls := []string{"file:" + file, "https://idp.example.com/certs"}
	checker := newTokenChecker(tokenGenerator{publicKey: &own.PublicKey, kid: &ownKid}, urls)
	now := time.Unix(1_800_000_000, 0)
	checker.now = func() time.Time { return now }

	if sub, err := checker.check(sign(t, own, "current", map[string]any{"sub": "ingestion-bot"})); err != nil || sub != "ingestion-bot" {
		t.Fatalf("own key: %q %v", sub, err)
	}
	oldToken := sign(t, retired, "old", map[string]any{"sub": "bot"})
	if _, err := checker.check(oldToken); err != nil {
		t.Fatalf("retired key through the file: URL: %v", err)
	}
	if _, err := checker.check(sign(t, stranger, "old", map[string]any{"sub": "x"})); err == nil {
		t.Fatal("a token of another key under a known kid verified")
	}
	if _, err := checker.check(sign(t, stranger, "nobody", map[string]any{"sub": "x"})); err != errKeyNotFound {
		t.Fatalf("unknown kid: %v", err)
	}
	if _, err := checker.check(sign(t, own, "current", map[string]any{"sub": "x", "exp": now.Unix() - 1})); err == nil {
		t.Fatal("an expired token verified")
	}

	// The key leaves the file: a checker that found it before keeps it for 24 hours
	// (MultiUrlJwkProvider's cache); one that did not rejects the token at once.
	writeJWKS(t, file, map[string]*rsa.PrivateKey{})
	if _, err := checker.check(oldToken); err != nil {
		t.Fatalf("cached key: %v", err)
	}
	fresh := newTokenChecker(tokenGenerator{publicKey: &own.PublicKey, kid: &ownKid}, urls)
	if _, err := fresh.check(oldToken); err != errKeyNotFound {
		t.Fatalf("after the key left the file: %v", err)
	}
	now = now.Add(keyCacheTTL)
	if _, err := checker.check(oldToken); err != errKeyNotFound {
		t.Fatalf("after the cache expired: %v", err)
	}
}
