package main

import (
	"strconv"
	"strings"
)

// release is major.minor.patch of OM_STANDIN_VERSION (a suffix such as -SNAPSHOT is ignored).
type release [3]int

func parseRelease(text string) (release, bool) {
	core := strings.TrimPrefix(strings.TrimSpace(text), "v")
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core = core[:i]
	}
	parts := strings.Split(core, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return release{}, false
	}
	var r release
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return release{}, false
		}
		r[i] = n
	}
	return r, true
}

func compareRelease(a, b release) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// The release families (openmetadata-server-behaviour.md §1; the operator's proof::version).
type family int

const (
	// Up to 1.9: the authentication settings come from openmetadata.yaml at every start.
	readsFile family = iota
	// 1.10 to 2.0.x: seeded into the database on the first start, then only the copy is read.
	copiesToDatabase
	// 2.1 and later: the database copy is reconciled with the file per SECURITY_CONFIG_SOURCE.
	configSourceFamily
)

func (r release) family() family {
	switch {
	case r[0] == 0 || (r[0] == 1 && r[1] <= 9):
		return readsFile
	case r[0] == 1 || (r[0] == 2 && r[1] == 0):
		return copiesToDatabase
	}
	return configSourceFamily
}

func (f family) String() string {
	return [...]string{"1.0-1.9: reads openmetadata.yaml", "1.10-2.0.x: copies into the database", "2.1+: SECURITY_CONFIG_SOURCE"}[f]
}
