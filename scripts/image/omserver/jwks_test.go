package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keyWithTopBit returns a 2048-bit key whose modulus has its top bit set (every RSA modulus of
// exactly 2048 bits has), and one whose exponent is 65537.
func writeKey(t *testing.T, dir string) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := x509.MarshalPKCS8PrivateKey(key)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err := os.WriteFile(filepath.Join(dir, "private_key.der"), priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "public_key.der"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	return key
}

func TestJWKSEncodesLikeJavaBigIntegerAndPaddedBase64URL(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	if key.N.Bytes()[0]&0x80 == 0 {
		t.Fatal("a 2048-bit modulus has its top bit set")
	}
	kid := "kid-1"
	g := loadTokenGenerator(jwtConfig{
		privateKeyPath: filepath.Join(dir, "private_key.der"),
		publicKeyPath:  filepath.Join(dir, "public_key.der"),
		keyID:          &kid,
	})
	var doc struct {
		Keys []map[string]*string `json:"keys"`
	}
	body := g.jwks()
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Keys) != 1 {
		t.Fatalf("%s: %v", body, err)
	}
	k := doc.Keys[0]
	if *k["kty"] != "RSA" || *k["kid"] != "kid-1" || *k["alg"] != "RS256" || *k["use"] != "sig" {
		t.Errorf("key %s", body)
	}
	if !strings.HasPrefix(string(body), `{"keys":[{"kty":"RSA","kid":"kid-1","n":"`) {
		t.Errorf("field order kty, kid, n, e, alg, use: %s", body)
	}
	n, err := base64.URLEncoding.DecodeString(*k["n"]) // padded base64url
	if err != nil {
		t.Fatalf("n is not padded base64url: %v", err)
	}
	if len(n) != 257 || n[0] != 0 || new(big.Int).SetBytes(n[1:]).Cmp(key.N) != 0 {
		t.Errorf("n must be BigInteger.toByteArray(): 257 bytes with a leading zero, got %d", len(n))
	}
	if !strings.HasSuffix(*k["n"], "=") {
		t.Errorf("257 bytes encode with one padding character: %s", *k["n"])
	}
	if *k["e"] != "AQAB" {
		t.Errorf("e = %s", *k["e"])
	}
	if got := javaByteArray(big.NewInt(0x7f)); len(got) != 1 || got[0] != 0x7f {
		t.Errorf("no sign byte below 0x80: %x", got)
	}
	if got := javaByteArray(big.NewInt(0x80)); len(got) != 2 || got[0] != 0 {
		t.Errorf("a sign byte from 0x80: %x", got)
	}
	if got := javaByteArray(big.NewInt(0)); len(got) != 1 || got[0] != 0 {
		t.Errorf("zero is [0]: %x", got)
	}
}

func TestJWKSWithoutItsKeyFilesServesANullKey(t *testing.T) {
	dir := t.TempDir()
	writeKey(t, dir)
	kid := "kid-1"
	for name, cfg := range map[string]jwtConfig{
		"missing public key":  {privateKeyPath: filepath.Join(dir, "private_key.der"), publicKeyPath: filepath.Join(dir, "nope.der"), keyID: &kid},
		"missing private key": {privateKeyPath: filepath.Join(dir, "nope.der"), publicKeyPath: filepath.Join(dir, "public_key.der"), keyID: &kid},
		"swapped files":       {privateKeyPath: filepath.Join(dir, "public_key.der"), publicKeyPath: filepath.Join(dir, "private_key.der"), keyID: &kid},
		"no paths":            {keyID: &kid},
	} {
		got := string(loadTokenGenerator(cfg).jwks())
		if got != `{"keys":[{"kty":null,"kid":null,"n":null,"e":null,"alg":"RS256","use":"sig"}]}` {
			t.Errorf("%s: %s", name, got)
		}
	}
}
