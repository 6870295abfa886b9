package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// tokenExpiry is one JWTTokenExpiry constant: its Java name, its JSON value (what toString() and
// the stored JWTAuthMechanism say) and how far from now getExpiryDate puts the expiry.
//
// OpenMetadata openmetadata-spec/src/main/resources/json/schema/auth/jwtAuth.json
// @ 098541a720a59c4494448b9dd5b75fca1c173120: enum ["OneHour", "1", "7", "30", "60", "90",
// "Unlimited"] with javaEnums OneHour, One, Seven, Thirty, Sixty, Ninety, Unlimited.
// .../security/jwt/JWTTokenGenerator.java @ 01d723db4ec7af898cbeba648902f70c821ff2d4
// (getExpiryDate): OneHour → now plus one hour, One/Seven/Thirty/Sixty/Ninety → now plus that many
// days (LocalDateTime in the system zone), Unlimited → null, i.e. no expiry at all.
type tokenExpiry struct {
	name  string
	value string
	hours int // OneHour
	days  int // the others; both zero: Unlimited
}

var tokenExpiries = []tokenExpiry{
	{name: "OneHour", value: "OneHour", hours: 1},
	{name: "One", value: "1", days: 1},
	{name: "Seven", value: "7", days: 7},
	{name: "Thirty", value: "30", days: 30},
	{name: "Sixty", value: "60", days: 60},
	{name: "Ninety", value: "90", days: 90},
	{name: "Unlimited", value: "Unlimited"},
}

var unlimitedExpiry = tokenExpiries[len(tokenExpiries)-1]

// parseExpiry is picocli's enum conversion of `--expiry VALUE`: the constant whose name() or
// toString() equals the text, case-sensitively; otherwise picocli's message.
//
// picocli src/main/java/picocli/CommandLine.java @ v4.7.6 (368d97e4f60ab2d546199a92611a22abf337b091,
// the version OpenMetadata's pom.xml pins), getEnumTypeConverter: Enum.valueOf, then a match on
// toString() or name(); failing that "expected one of %s (%s) but was '%s'" with every name()
// followed by its toString() when it differs, "case-sensitive".
func parseExpiry(text string) (tokenExpiry, error) {
	var names []string
	for _, e := range tokenExpiries {
		if text == e.name || text == e.value {
			return e, nil
		}
		names = append(names, e.name)
		if e.value != e.name {
			names = append(names, e.value)
		}
	}
	return tokenExpiry{}, fmt.Errorf("expected one of [%s] (case-sensitive) but was '%s'", strings.Join(names, ", "), text)
}

// expiresAt is getExpiryDate(expiry): nil for Unlimited.
func (e tokenExpiry) expiresAt(now time.Time) *time.Time {
	var t time.Time
	switch {
	case e.hours > 0:
		t = now.Add(time.Duration(e.hours) * time.Hour)
	case e.days > 0:
		t = now.AddDate(0, 0, e.days)
	default:
		return nil
	}
	return &t
}

// errTokenCreation is the JWTCreationException getJwtAuthMechanism throws when signing fails (no
// private key loaded: java-jwt's Algorithm.RSA256(null, null) refuses).
var errTokenCreation = errors.New("Failed to generate JWT Token. Please check your OpenMetadata Configuration.")

// botClaims is the payload JWTTokenGenerator writes for a bot.
type botClaims struct {
	Iss       string `json:"iss,omitempty"`
	Sub       string `json:"sub"`
	Email     string `json:"email,omitempty"`
	IsBot     bool   `json:"isBot"`
	TokenType string `json:"tokenType"`
	Iat       int64  `json:"iat"`
	Exp       *int64 `json:"exp,omitempty"`
}

// generateJWTToken is JWTTokenGenerator.generateJWTToken(User, JWTTokenExpiry), the call
// UserUtil.addOrUpdateBotUser makes with Unlimited and regenerate-bot-tokens with --expiry.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/security/jwt/JWTTokenGenerator.java
// @ 01d723db4ec7af898cbeba648902f70c821ff2d4: generateJWTToken(user, expiry) →
// getJwtAuthMechanism(user.getName(), user.getEmail(), isBot = true, ServiceTokenType.BOT,
// getExpiryDate(expiry), expiry), which signs with Algorithm.RSA256(null, privateKey):
//   - header: java-jwt's alg "RS256" and typ "JWT", and kid = the configured keyId (withKeyId);
//   - claims: iss = jwtissuer (withIssuer), sub = the user's name, email = the user's email,
//     isBot = true, tokenType = "BOT" (ServiceTokenType.BOT.value()), iat = now; exp only when the
//     expiry has a date: withExpiresAt(null) leaves it out, so an Unlimited token never expires;
//   - the result is a JWTAuthMechanism {JWTToken, JWTTokenExpiry, JWTTokenExpiresAt = the expiry
//     in milliseconds or null}; any failure is a JWTCreationException "Failed to generate JWT
//     Token. Please check your OpenMetadata Configuration.".
//
// Not transcribed: newer versions of the file (parkermeng2024/OpenMetadata @
// 4be7a18c160df321690d48bf7c6ecf719bbd29f2) also write `roles` (the user's roles, plus "Admin"
// for an admin), `username`, `preferred_username` (the email) and the claims a
// jwtPrincipalClaims/Mapping configuration names; which release first does so was not found, and
// no check of the stand-in reads them. A null claim (no issuer, no email) is left out, as java-jwt
// does; a null keyId is left out of the header (java-jwt's handling of a null kid not checked).
func (g tokenGenerator) generateJWTToken(user *userEntity, expiry tokenExpiry, now time.Time) (jwtAuthMechanism, error) {
	if g.privateKey == nil {
		return jwtAuthMechanism{}, errTokenCreation
	}
	claims := botClaims{Iss: g.issuer, Sub: user.Name, Email: user.Email, IsBot: true, TokenType: "BOT", Iat: now.Unix()}
	expires := expiry.expiresAt(now)
	if expires != nil {
		exp := expires.Unix()
		claims.Exp = &exp
	}
	token, err := signRS256(g.privateKey, g.kid, claims)
	if err != nil {
		return jwtAuthMechanism{}, errTokenCreation
	}
	value := expiry.value
	mechanism := jwtAuthMechanism{JWTToken: &token, JWTTokenExpiry: &value}
	if expires != nil {
		ms := expires.UnixMilli()
		mechanism.JWTTokenExpiresAt = &ms
	}
	return mechanism, nil
}

// jwtHeader is the header java-jwt 4.4.0 writes: alg, typ "JWT" and the kid (java-jwt keeps them in
// a HashMap; the order of the serialized fields is not significant and not transcribed).
type jwtHeader struct {
	Alg string  `json:"alg"`
	Typ string  `json:"typ"`
	Kid *string `json:"kid,omitempty"`
}

func signRS256(key *rsa.PrivateKey, kid *string, claims any) (string, error) {
	header, err := compactJSON(jwtHeader{Alg: "RS256", Typ: "JWT", Kid: kid})
	if err != nil {
		return "", err
	}
	payload, err := compactJSON(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	signature, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(signature), nil
}

func compactJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// tokenKid is the `kid` of a token's header, without verifying anything ("" when there is none):
// what the stand-in shows of a token it must not show.
func tokenKid(token string) string {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	var header struct {
		Kid string `json:"kid"`
	}
	if decodeTokenPart(head, &header) != nil {
		return ""
	}
	return header.Kid
}
