package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"gopkg.in/yaml.v3"
)

// appConfig is what the stand-in takes from openmetadata.yaml: the blocks OpenMetadata's
// OpenMetadataApplicationConfig binds that the stand-in emulates.
type appConfig struct {
	path            string
	authentication  obj // authenticationConfiguration, as the bound POJO (authconfig.go)
	authorizer      obj // authorizerConfiguration, as parsed
	jwt             jwtConfig
	configSource    configSource
	database        databaseConfig
	rawAuthSection  any // the authenticationConfiguration block before substitution (2.1 templates)
	rawAuthzSection any
}

type jwtConfig struct {
	publicKeyPath  string
	privateKeyPath string
	issuer         string
	keyID          *string // null when the file leaves keyId null
}

type configSource struct {
	security              string // AUTO, ENV or DB
	confirmProviderChange bool
}

type databaseConfig struct {
	driverClass string
	user        string
	password    string
	url         string
}

// The stand-in's image carries only the authentication blocks of openmetadata.yaml
// (shared/fixtures/openmetadata/conf/openmetadata-auth-excerpt.yaml). When the file has no
// `database` block this one stands for the server's.
//
// OpenMetadata conf/openmetadata.yaml @ a1526da34fbb4976eea2493dcbcfbe5a44c5833c: the `database`
// block's driverClass, user, password and url lines, with the same variables and defaults (the
// pool and driver properties that follow them there are not used by the stand-in).
const defaultDatabaseBlock = `database:
  driverClass: ${DB_DRIVER_CLASS:-com.mysql.cj.jdbc.Driver}
  user: ${DB_USER:-openmetadata_user}
  password: ${DB_USER_PASSWORD:-openmetadata_password}
  url: jdbc:${DB_SCHEME:-mysql}://${DB_HOST:-localhost}:${DB_PORT:-3306}/${OM_DATABASE:-openmetadata_db}?${DB_PARAMS:-allowPublicKeyRetrieval=true&useSSL=false&serverTimezone=UTC}
`

// loadConfig reads the configuration file as the server does: text substitution with the
// process environment, then YAML. Errors are the ones that stop OpenMetadata's start.
func loadConfig(path string) (*appConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return parseConfig(path, string(raw), os.LookupEnv)
}

func parseConfig(path, raw string, lookup func(string) (string, bool)) (*appConfig, error) {
	text, err := substitute(raw, lookup)
	if err != nil {
		return nil, fmt.Errorf("%s has an error: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("%s has an error: malformed YAML: %w", path, err)
	}
	root := fromYAML(&doc)
	top, ok := root.(obj)
	if !ok {
		return nil, fmt.Errorf("%s has an error: not a YAML mapping", path)
	}
	cfg := &appConfig{path: path}

	if cfg.authentication, err = bindAuthentication(top["authenticationConfiguration"]); err != nil {
		return nil, fmt.Errorf("%s has an error: authenticationConfiguration: %w", path, err)
	}
	if a, ok := top["authorizerConfiguration"].(obj); ok {
		cfg.authorizer = a
	}
	if j, ok := top["jwtTokenConfiguration"].(obj); ok {
		if cfg.jwt.publicKeyPath, err = stringField(j, "rsapublicKeyFilePath"); err == nil {
			if cfg.jwt.privateKeyPath, err = stringField(j, "rsaprivateKeyFilePath"); err == nil {
				if cfg.jwt.issuer, err = stringField(j, "jwtissuer"); err == nil {
					var kid any
					if kid, err = coerceString(j["keyId"]); err == nil && kid != nil {
						k := kid.(string)
						cfg.jwt.keyID = &k
					}
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s has an error: jwtTokenConfiguration: %w", path, err)
		}
	}
	// OpenMetadata openmetadata-spec/.../configuration/configSourceConfiguration.json
	// @ a1526da34fbb4976eea2493dcbcfbe5a44c5833c and the `configSource` block of
	// conf/openmetadata.yaml at the same commit: security is AUTO (default), ENV or DB;
	// confirmProviderChange defaults to false. A missing block means these defaults.
	cfg.configSource.security = "AUTO"
	if c, ok := top["configSource"].(obj); ok {
		if v, err := coerceEnum(c["security"], []string{"AUTO", "ENV", "DB"}); err != nil {
			return nil, fmt.Errorf("%s has an error: configSource.security: %w", path, err)
		} else if v != nil {
			cfg.configSource.security = v.(string)
		}
		if v, err := coerceBool(c["confirmProviderChange"]); err != nil {
			return nil, fmt.Errorf("%s has an error: configSource.confirmProviderChange: %w", path, err)
		} else if v != nil {
			cfg.configSource.confirmProviderChange = v.(bool)
		}
	}

	db, ok := top["database"].(obj)
	if !ok {
		dbText, err := substitute(defaultDatabaseBlock, lookup)
		if err != nil {
			return nil, err
		}
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(dbText), &node); err != nil {
			return nil, fmt.Errorf("the built-in database block: %w", err)
		}
		db, _ = fromYAML(&node).(obj)["database"].(obj)
	}
	for field, dst := range map[string]*string{
		"driverClass": &cfg.database.driverClass, "user": &cfg.database.user,
		"password": &cfg.database.password, "url": &cfg.database.url,
	} {
		if *dst, err = stringField(db, field); err != nil {
			return nil, fmt.Errorf("%s has an error: database.%s: %w", path, field, err)
		}
	}

	// The file as written, before substitution: which fields it defines (2.1's DeploymentTemplate).
	var rawDoc yaml.Node
	if yaml.Unmarshal([]byte(raw), &rawDoc) == nil {
		if rawTop, ok := fromYAML(&rawDoc).(obj); ok {
			cfg.rawAuthSection = rawTop["authenticationConfiguration"]
			cfg.rawAuthzSection = rawTop["authorizerConfiguration"]
		}
	}
	return cfg, nil
}

func stringField(o obj, name string) (string, error) {
	v, err := coerceString(o[name])
	if err != nil || v == nil {
		return "", err
	}
	return v.(string), nil
}

// obj is a JSON/YAML object; values are string, bool, json.Number, []any, obj or nil.
type obj = map[string]any

// fromYAML turns a parsed YAML node into JSON-like values the way Jackson's YAML parser reads
// scalars: plain scalars resolve to null, booleans and numbers (a number keeps its text, which
// is what a String field receives), everything else is a string.
func fromYAML(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return fromYAML(n.Content[0])
	case yaml.AliasNode:
		return fromYAML(n.Alias)
	case yaml.MappingNode:
		o := obj{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			o[n.Content[i].Value] = fromYAML(n.Content[i+1])
		}
		return o
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			list = append(list, fromYAML(c))
		}
		return list
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Value
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		b, err := strconv.ParseBool(n.Value)
		if err == nil {
			return b
		}
		return n.Value
	case "!!int", "!!float":
		return json.Number(n.Value)
	}
	return n.Value
}
