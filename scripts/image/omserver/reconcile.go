package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
)

// 2.1's reconciliation of the settings that live both in openmetadata.yaml and in the database
// (package org.openmetadata.service.config.source). ENV mode is emulated; AUTO and DB are not
// (README.md says exactly what the stand-in does instead).

// snapshot is DeploymentSnapshot, the JSON of the deployment_snapshot column.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/config/source/DeploymentSnapshot.java
// @ 24ce58b5121acd83f543813c52880ea40fb380d2: values (the deployment value applied last time)
// and meta {mode, appVersion, appliedJsonHash, warned, previousStored}. Upstream encrypts the
// secrets in values; the stand-in does not (no Fernet key), see README.md.
type snapshot struct {
	Values any          `json:"values"`
	Meta   snapshotMeta `json:"meta"`
}

type snapshotMeta struct {
	Mode            string   `json:"mode,omitempty"`
	AppVersion      string   `json:"appVersion,omitempty"`
	AppliedJSONHash *string  `json:"appliedJsonHash,omitempty"`
	Warned          []string `json:"warned"`
	PreviousStored  any      `json:"previousStored,omitempty"`
}

func parseSnapshot(text *string) *snapshot {
	if text == nil || strings.TrimSpace(*text) == "" {
		return nil
	}
	var s snapshot
	dec := json.NewDecoder(strings.NewReader(*text))
	dec.UseNumber()
	if dec.Decode(&s) != nil {
		return nil // readValueLenient: an unreadable snapshot counts as none
	}
	s.Values = normalize(s.Values)
	s.Meta.PreviousStored = normalize(s.Meta.PreviousStored)
	return &s
}

func (s snapshot) encode() string { return string(encodeJSON(s)) }

// errProviderChange is ProviderChangeNotConfirmedException.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/config/source/SettingsMerge.java
// @ 15488e78e7b0111b2b89eacdfea6378213bdf7c4, requireConfirmedProviderChange(): the message.
var errProviderChange = errors.New("SECURITY_CONFIG_SOURCE=ENV would replace the identity provider configured in the UI " +
	"with a different one from the deployment configuration. Fix the deployment " +
	"configuration, or set SECURITY_CONFIG_SOURCE_CONFIRM_PROVIDER_CHANGE=true to " +
	"replace it.")

// mergeEnv is SettingsMerge.merge() in ENV mode: the provider guard, then every field the
// configuration file defines is overwritten from the deployment value; the others keep the
// stored value. It returns the new stored value and whether it changed.
//
// OpenMetadata .../config/source/SettingsMerge.java @ 15488e78e7b0111b2b89eacdfea6378213bdf7c4:
// mergeEnv() calls requireConfirmedProviderChange(), which throws when the setting has an
// identity provider (authentication only), the stored and deployment values name different
// providers, this start switches the setting to ENV, and confirmProviderChange is false.
// OpenMetadata .../config/source/MergeContext.java @ 24ce58b5121acd83f543813c52880ea40fb380d2:
// overwriteManagedFields() writes every unit pointer the template covers (all of them when no
// template was captured) whose stored value differs (SettingValues.same); writeValue() removes a
// field whose deployment value is blank and otherwise sets it, first copying a missing ancestor
// object from the deployment. The field pointers are the leaves of the deployment, stored and
// last-applied values (MergeContext.fieldPointers()).
func mergeEnv(hasIdentity bool, deployment, stored, lastApplied any, template []string,
	switchingToEnv, confirm bool) (any, bool, error) {
	if hasIdentity && !sameProvider(stored, deployment) && switchingToEnv && !confirm {
		return nil, false, errProviderChange
	}
	original := clone(stored)
	result, _ := clone(stored).(obj)
	if result == nil {
		result = obj{}
	}
	pointers := map[string]bool{}
	for _, tree := range []any{deployment, stored, lastApplied} {
		for _, p := range leaves(tree, "") {
			pointers[p] = true
		}
	}
	sorted := make([]string, 0, len(pointers))
	for p := range pointers {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	for _, p := range sorted {
		if !covers(template, p) {
			continue
		}
		want := valueAt(deployment, p)
		if same(valueAt(result, p), want) {
			continue
		}
		if isBlank(want) {
			removeAt(result, p)
		} else {
			setAt(result, p, clone(want), deployment)
		}
	}
	return result, !reflect.DeepEqual(any(result), original), nil
}

// The single-value units of the security settings: compared and replaced whole.
//
// OpenMetadata design note "Settings defined in both the deployment configuration and the
// database" (config/source, commit 8c54ce31…), field policies: oidcConfiguration.customParams
// and ldapConfiguration.trustStoreConfig are single values.
var singleValues = map[string]bool{"/oidcConfiguration/customParams": true, "/ldapConfiguration/trustStoreConfig": true}

// leaves lists the JSON pointers of the leaf values of tree: scalars, arrays and single values.
func leaves(tree any, prefix string) []string {
	o, ok := tree.(obj)
	if !ok || (prefix != "" && singleValues[prefix]) {
		if prefix == "" {
			return nil
		}
		return []string{prefix}
	}
	if len(o) == 0 && prefix != "" {
		return []string{prefix}
	}
	var out []string
	for k, v := range o {
		out = append(out, leaves(v, prefix+"/"+escapePointer(k))...)
	}
	return out
}

func escapePointer(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

func splitPointer(p string) []string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts
}

// covers is DeploymentTemplate.covers(): a template field under the pointer or above it.
//
// OpenMetadata .../config/source/DeploymentTemplate.java @ 24ce58b5121acd83f543813c52880ea40fb380d2.
func covers(template []string, p string) bool {
	if template == nil {
		return true // no template captured: the deployment owns every field
	}
	for _, t := range template {
		if t == p || strings.HasPrefix(t, p+"/") || strings.HasPrefix(p, t+"/") {
			return true
		}
	}
	return false
}

func valueAt(tree any, p string) any {
	cur := tree
	for _, k := range splitPointer(p) {
		o, ok := cur.(obj)
		if !ok {
			return nil
		}
		cur = o[k]
	}
	return cur
}

func removeAt(tree obj, p string) {
	parts := splitPointer(p)
	cur := tree
	for _, k := range parts[:len(parts)-1] {
		next, ok := cur[k].(obj)
		if !ok {
			return
		}
		cur = next
	}
	delete(cur, parts[len(parts)-1])
}

func setAt(tree obj, p string, value, deployment any) {
	parts := splitPointer(p)
	cur := tree
	for i, k := range parts[:len(parts)-1] {
		next, ok := cur[k].(obj)
		if !ok {
			// copyMissingAncestorFromDeployment: the deployment's whole object, so it carries
			// its required fields.
			ancestor := "/" + strings.Join(parts[:i+1], "/")
			if d, ok := valueAt(deployment, ancestor).(obj); ok {
				cur[k] = clone(d)
				return
			}
			next = obj{}
			cur[k] = next
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = value
}

// isBlank is SettingValues.isBlank(): null, absent, blank text and empty containers are "not set".
//
// OpenMetadata .../config/source/SettingValues.java @ 24ce58b5121acd83f543813c52880ea40fb380d2.
func isBlank(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(t) == ""
	case obj:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// same is SettingValues.same(): equal after canonical(), where blanks are null, numbers compare
// by value, text is trimmed (PEM line ends normalised, JSON held in text parsed) and objects
// drop their null members (SettingValues.java, as above).
func same(a, b any) bool { return reflect.DeepEqual(canonical(a), canonical(b)) }

func canonical(v any) any {
	if isBlank(v) {
		return nil
	}
	switch t := v.(type) {
	case obj:
		out := obj{}
		for k, e := range t {
			if c := canonical(e); c != nil {
				out[k] = c
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = canonical(e)
		}
		return out
	case json.Number:
		// BigDecimal.stripTrailingZeros().toPlainString()
		r, ok := new(big.Rat).SetString(string(t))
		if !ok {
			return string(t)
		}
		if r.IsInt() {
			return r.Num().String()
		}
		return strings.TrimRight(r.FloatString(30), "0")
	case bool:
		if t {
			return "true"
		}
		return "false"
	case string:
		s := strings.TrimSpace(t)
		if strings.Contains(s, "-----BEGIN") {
			return strings.ReplaceAll(s, "\r\n", "\n")
		}
		if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
			if parsed, err := decodeJSON([]byte(s)); err == nil {
				return canonical(parsed)
			}
		}
		return s
	}
	return v
}

// sameProvider is IdentityProviderIdentity.sameProvider(): the two configurations name the same
// identity provider.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/config/source/IdentityProviderIdentity.java
// @ 8c54ce3198356604328331f9423130098b534ba8: the identity is the provider (blank is basic,
// openmetadata counts as basic), the client type (blank is public), and: nothing more for basic;
// /ldapConfiguration/host for ldap; /samlConfiguration/idp/entityId for saml; for OIDC providers
// /authority and /clientId, plus /oidcConfiguration/id and /oidcConfiguration/discoveryUri for a
// confidential client. Compared in canonical form.
func sameProvider(a, b any) bool {
	return reflect.DeepEqual(identityOf(a), identityOf(b))
}

func identityOf(auth any) any {
	provider, _ := valueAt(auth, "/provider").(string)
	provider = strings.TrimSpace(provider)
	if provider == "" || provider == "openmetadata" {
		provider = "basic"
	}
	clientType, _ := valueAt(auth, "/clientType").(string)
	clientType = strings.TrimSpace(clientType)
	if clientType == "" {
		clientType = "public"
	}
	id := obj{"/provider": provider, "/clientType": clientType}
	var pointers []string
	switch provider {
	case "basic":
	case "ldap":
		pointers = []string{"/ldapConfiguration/host"}
	case "saml":
		pointers = []string{"/samlConfiguration/idp/entityId"}
	default:
		pointers = []string{"/authority", "/clientId"}
		if clientType == "confidential" {
			pointers = append(pointers, "/oidcConfiguration/id", "/oidcConfiguration/discoveryUri")
		}
	}
	for _, p := range pointers {
		id[p] = valueAt(auth, p)
	}
	return canonical(id)
}

// templateLeaves lists the fields a configuration-file section defines, before substitution.
//
// OpenMetadata .../config/source/DeploymentTemplate.java @ 24ce58b5121acd83f543813c52880ea40fb380d2:
// parse() takes JsonPointers.leaves of the section with no single values; an empty template
// (no section) is "not available".
func templateLeaves(section any) []string {
	if section == nil {
		return nil
	}
	var out []string
	var walk func(v any, prefix string)
	walk = func(v any, prefix string) {
		o, ok := v.(obj)
		if !ok || len(o) == 0 {
			out = append(out, prefix)
			return
		}
		for k, e := range o {
			walk(e, prefix+"/"+escapePointer(k))
		}
	}
	walk(section, "")
	if len(out) == 0 {
		return nil
	}
	sort.Strings(out)
	return out
}

// olderRelease is ServerVersions.isOlder(appVersion, snapshotVersion): the snapshot was written
// by a newer server, which this one must not overwrite.
func olderRelease(ours, theirs string) bool {
	a, okA := parseRelease(ours)
	b, okB := parseRelease(theirs)
	return okA && okB && compareRelease(a, b) < 0
}

func describeErr(setting string, err error) error {
	// DeploymentConfigReconciler.startStoppedBy(): "%s cannot be applied from the deployment
	// configuration: %s".
	return fmt.Errorf("%s cannot be applied from the deployment configuration: %w", setting, err)
}
