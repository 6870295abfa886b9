package main

import (
	"fmt"
	"slices"
)

// substitute replaces ${VAR} and ${VAR:-default} in text by the environment, exactly as the
// server's configuration loader does before it parses the YAML.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/OpenMetadataApplication.java
// @ 1e4bafecd31b40adf41d60954c0f3fbf596b25a2 (and every stored version): initialize() wraps the
// configuration source in SubstitutingSourceProvider(…, new EnvironmentVariableSubstitutor(false)):
// non-strict (an undefined variable without default stays as written), which is Dropwizard's
// commons-text StringSubstitutor with prefix "${", suffix "}", escape '$', value delimiter ":-",
// substitution inside variable names enabled and substitution inside substituted values enabled.
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/util/OpenMetadataOperations.java
// @ 95c0883bae25a2056d307c239c1f0144682585e0: parseConfig() uses the same substitutor for the CLI.
//
// The rules transcribed from StringSubstitutor.substitute():
//   - "$${" is an escape: the '$' is dropped and the "${" that follows is kept literally;
//   - the variable's name is itself substituted first (nested ${...} are matched in pairs);
//   - the name is split at the first ":-": the part after it is the default;
//   - a variable that is set, even to "", takes its value; only an unset one takes the default;
//   - the inserted value is substituted again (recursively), and a variable met again while its
//     own value is being substituted is an error ("Infinite loop in property interpolation");
//   - an unset variable without default is left as written.
func substitute(text string, lookup func(string) (string, bool)) (string, error) {
	buf := []rune(text)
	s := substitutor{lookup: lookup}
	out, _, err := s.run(buf, 0, len(buf), nil)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

type substitutor struct {
	lookup func(string) (string, bool)
}

func isPrefix(buf []rune, pos, end int) bool {
	return pos+1 < end && buf[pos] == '$' && buf[pos+1] == '{'
}

// run substitutes buf[offset:offset+length] in place (returning the new buffer) and reports the
// change of length.
func (s substitutor) run(buf []rune, offset, length int, prior []string) ([]rune, int, error) {
	end := offset + length
	change := 0
	pos := offset
	for pos < end {
		if !isPrefix(buf, pos, end) {
			pos++
			continue
		}
		if pos > offset && buf[pos-1] == '$' {
			// Escaped: drop the escape character; the "${" stays literal.
			buf = slices.Delete(buf, pos-1, pos)
			change--
			end--
			continue
		}
		start := pos
		pos += 2
		nested := 0
		found := false
		for pos < end {
			if isPrefix(buf, pos, end) {
				nested++
				pos += 2
				continue
			}
			if buf[pos] != '}' {
				pos++
				continue
			}
			if nested > 0 {
				nested--
				pos++
				continue
			}
			found = true
			break
		}
		if !found {
			break
		}
		expr := slices.Clone(buf[start+2 : pos])
		var err error
		expr, _, err = s.run(expr, 0, len(expr), nil)
		if err != nil {
			return nil, 0, err
		}
		pos++ // past '}'
		varEnd := pos
		name, def, hasDefault := string(expr), "", false
		for i := 0; i+1 < len(expr); i++ {
			if expr[i] == ':' && expr[i+1] == '-' {
				name, def, hasDefault = string(expr[:i]), string(expr[i+2:]), true
				break
			}
		}
		if prior == nil {
			prior = []string{string(buf[offset : offset+length])}
		}
		if slices.Contains(prior, name) {
			return nil, 0, fmt.Errorf("infinite loop in property interpolation of %s", name)
		}
		prior = append(prior, name)
		value, ok := s.lookup(name)
		if !ok && hasDefault {
			value, ok = def, true
		}
		if ok {
			inserted := []rune(value)
			buf = slices.Concat(buf[:start:start], inserted, buf[varEnd:])
			var inner int
			buf, inner, err = s.run(buf, start, len(inserted), prior)
			if err != nil {
				return nil, 0, err
			}
			delta := inner + len(inserted) - (varEnd - start)
			pos += delta
			end += delta
			change += delta
		}
		prior = prior[:len(prior)-1]
	}
	return buf, change, nil
}
