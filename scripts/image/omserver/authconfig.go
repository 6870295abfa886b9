package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The AuthenticationConfiguration POJO the server binds openmetadata.yaml's block to, generated
// from openmetadata-spec/src/main/resources/json/schema/configuration/authenticationConfiguration.json.
// Field order, types and defaults are those of the openmetadata-ingestion 2.0.7.0 package's
// pydantic model generated from the same schema (metadata/generated/schema/configuration/
// authenticationConfiguration.py), plus emailClaim and displayNameClaim, which the 2.1 template
// (conf/openmetadata.yaml @ a1526da34fbb4976eea2493dcbcfbe5a44c5833c) sets. jsonschema2pojo
// initialises every array field to an empty list and every field with a schema default to it,
// and the generated class serialises without null fields: so a fresh POJO shows
// "responseType":"id_token", "publicKeyUrls":[], "tokenValidationAlgorithm":"RS256"
// (openmetadata-server-behaviour.md §3.1 and OpenMetadata PR #31516's description).
type fieldKind int

const (
	kString fieldKind = iota
	kBool
	kInt
	kStrings
	kObject
	kEnum
)

type field struct {
	name    string
	kind    fieldKind
	enum    []string
	initial any // the POJO's value before binding; nil: none
}

// OpenMetadata openmetadata-spec/.../entity/services/connections/metadata/openMetadataConnection.json
// (authProvider), as in openmetadata-ingestion 2.0.7.0: the provider names Jackson accepts.
var authProviders = []string{"basic", "azure", "google", "okta", "auth0", "aws-cognito", "custom-oidc", "ldap", "saml", "openmetadata"}

var authFields = []field{
	{"clientType", kEnum, []string{"public", "confidential"}, "public"},
	{"provider", kEnum, authProviders, nil},
	{"responseType", kEnum, []string{"id_token", "code"}, "id_token"},
	{"providerName", kString, nil, nil},
	{"publicKeyUrls", kStrings, nil, []any{}},
	{"tokenValidationAlgorithm", kEnum, []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}, "RS256"},
	{"authority", kString, nil, nil},
	{"clientId", kString, nil, nil},
	{"callbackUrl", kString, nil, nil},
	{"additionalTrustedRedirectUris", kStrings, nil, []any{}},
	{"emailClaim", kString, nil, nil},
	{"displayNameClaim", kString, nil, nil},
	{"jwtPrincipalClaims", kStrings, nil, []any{}},
	{"jwtPrincipalClaimsMapping", kStrings, nil, []any{}},
	{"jwtTeamClaimMapping", kString, nil, nil},
	{"enableSelfSignup", kBool, nil, false},
	{"ldapConfiguration", kObject, nil, nil},
	{"samlConfiguration", kObject, nil, nil},
	{"oidcConfiguration", kObject, nil, nil},
	{"forceSecureSessionCookie", kBool, nil, false},
	{"sessionExpiry", kInt, nil, nil},
	{"maxActiveSessionsPerUser", kInt, nil, json.Number("5")},
	{"enableAutoRedirect", kBool, nil, false},
}

func fieldNamed(name string) (field, bool) {
	for _, f := range authFields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// freshAuth is `new AuthenticationConfiguration()`.
func freshAuth() obj {
	o := obj{}
	for _, f := range authFields {
		if f.initial != nil {
			o[f.name] = clone(f.initial)
		}
	}
	return o
}

// bindAuthentication binds a parsed block (YAML or stored JSON) to the POJO: fields start at
// their initial values, each present key is coerced to its field's type as Jackson does (a null
// overwrites the initial value), and a value Jackson cannot coerce is an error. Keys the schema
// does not know are kept as they are (the stand-in carries one template for every family; see
// README.md).
func bindAuthentication(v any) (obj, error) {
	if v == nil {
		return nil, nil
	}
	src, ok := v.(obj)
	if !ok {
		return nil, fmt.Errorf("not an object")
	}
	out := freshAuth()
	for key, value := range src {
		f, known := fieldNamed(key)
		if !known {
			out[key] = value
			continue
		}
		var (
			c   any
			err error
		)
		switch f.kind {
		case kString:
			c, err = coerceString(value)
		case kBool:
			c, err = coerceBool(value)
		case kInt:
			c, err = coerceInt(value)
		case kStrings:
			c, err = coerceStrings(value)
		case kEnum:
			c, err = coerceEnum(value, f.enum)
		case kObject:
			if value != nil {
				if _, isObj := value.(obj); !isObj {
					err = fmt.Errorf("not an object")
				}
			}
			c = value
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if c == nil {
			delete(out, key)
		} else {
			out[key] = c
		}
	}
	if _, ok := out["provider"]; !ok {
		return nil, fmt.Errorf("provider: may not be null")
	}
	return out, nil
}

// Jackson's default scalar coercions, as far as the stand-in needs them.

func coerceString(v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		return t, nil
	case json.Number:
		return string(t), nil
	case bool:
		return strconv.FormatBool(t), nil
	}
	return nil, fmt.Errorf("cannot deserialize a String from %s", describe(v))
}

func coerceBool(v any) (any, error) {
	switch t := v.(type) {
	case nil, bool:
		return t, nil
	case string:
		switch t {
		case "true", "True", "TRUE":
			return true, nil
		case "false", "False", "FALSE":
			return false, nil
		case "":
			return nil, nil
		}
	}
	return nil, fmt.Errorf("cannot deserialize a Boolean from %s", describe(v))
}

func coerceInt(v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case json.Number:
		if _, err := strconv.ParseInt(string(t), 10, 32); err == nil {
			return t, nil
		}
	case string:
		if t == "" {
			return nil, nil
		}
		if _, err := strconv.ParseInt(strings.TrimSpace(t), 10, 32); err == nil {
			return json.Number(strings.TrimSpace(t)), nil
		}
	}
	return nil, fmt.Errorf("cannot deserialize an Integer from %s", describe(v))
}

func coerceStrings(v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			s, err := coerceString(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot deserialize a List from %s", describe(v))
}

func coerceEnum(v any, values []string) (any, error) {
	s, err := coerceString(v)
	if err != nil || s == nil {
		return nil, err
	}
	if !slices.Contains(values, s.(string)) {
		return nil, fmt.Errorf("cannot construct the enum from %q: not one of %v", s, values)
	}
	return s, nil
}

func describe(v any) string {
	switch v.(type) {
	case obj:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// authView is the answer of GET /api/v1/system/config/auth: a fresh POJO with a subset of the
// current configuration's fields copied into it.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/resources/system/ConfigResource.java:
//   - variant B (stored version without SecurityConfigurationManager, with /rdf; no commit id
//     recorded for it in the index) and variant D (@ 0e163a199a00f087927e666a252de79e5218d4b4):
//     provider, providerName, clientType, enableSelfSignup, jwtPrincipalClaims,
//     jwtPrincipalClaimsMapping, clientId, authority, callbackUrl are copied; for a SAML provider
//     with a samlConfiguration, samlConfiguration becomes {idp:{authorityUrl}}; nothing else.
//     B copies from the YAML config, D from SecurityConfigurationManager.getCurrentAuthConfig();
//   - the later stored copy (with the Test Login endpoints) also copies enableAutoRedirect;
//   - OpenMetadata PR #31516 ("Fixes #29597"): also responseType, publicKeyUrls and
//     tokenValidationAlgorithm (withFix).
//
// A null current configuration gives the fresh POJO unchanged (all variants check for null).
func authView(current obj, autoRedirect, withFix bool) obj {
	out := freshAuth()
	if current == nil {
		return out
	}
	copied := []string{"provider", "providerName", "clientType", "enableSelfSignup",
		"jwtPrincipalClaims", "jwtPrincipalClaimsMapping", "clientId", "authority", "callbackUrl"}
	if autoRedirect {
		copied = append(copied, "enableAutoRedirect")
	}
	if withFix {
		copied = append(copied, "responseType", "publicKeyUrls", "tokenValidationAlgorithm")
	}
	for _, name := range copied {
		if v, ok := current[name]; ok && v != nil {
			out[name] = clone(v)
		} else {
			delete(out, name)
		}
	}
	if current["provider"] == "saml" {
		if saml, ok := current["samlConfiguration"].(obj); ok {
			authority := any(nil)
			if idp, ok := saml["idp"].(obj); ok {
				authority = idp["authorityUrl"]
			}
			idp := obj{}
			if authority != nil {
				idp["authorityUrl"] = authority
			}
			out["samlConfiguration"] = obj{"idp": idp}
		}
	}
	return out
}

// encodeAuth writes the POJO as Jackson does: schema field order, then other keys sorted, null
// fields left out.
func encodeAuth(o obj) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	write := func(k string, v any) {
		if v == nil {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		kj, _ := json.Marshal(k)
		b.Write(kj)
		b.WriteByte(':')
		b.Write(encodeJSON(v))
	}
	seen := map[string]bool{}
	for _, f := range authFields {
		seen[f.name] = true
		write(f.name, o[f.name])
	}
	var rest []string
	for k := range o {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		write(k, o[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// encodeJSON writes a JSON value without escaping HTML characters (Jackson does not).
func encodeJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// decodeJSON reads JSON keeping numbers' text.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v), nil
}

// normalize turns map[string]any from encoding/json into obj (the same type; kept for clarity).
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	}
	return v
}

func clone(v any) any {
	switch t := v.(type) {
	case obj:
		o := make(obj, len(t))
		for k, e := range t {
			o[k] = clone(e)
		}
		return o
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = clone(e)
		}
		return l
	}
	return v
}
