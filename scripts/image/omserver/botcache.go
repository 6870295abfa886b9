package main

import (
	"errors"
	"strings"
	"sync"
	"time"
)

// botTokenCache is BotTokenCache: the token stored for each bot, as the filter compares it.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/security/auth/BotTokenCache.java
// @ 4d497f449d6be9fd3bf59cd5215abf280da4b9a3 (the same at 01450e133c4d6f1ed18b6395a8c5c8594691c2b7):
// a Guava LoadingCache, maximumSize(1000), expireAfterWrite(2, MINUTES); the loader reads the
// non-deleted user of that name and returns its JWTAuthMechanism's JWTToken. getToken(name): a
// cached "" (a revoked token) is invalidated and loaded again; a loader failure returns null (not
// cached). So a server that loaded a bot's token keeps comparing with it for up to two minutes
// after the database changed (regenerate-bot-tokens writes the database, not the server's cache);
// UserResource.revokeToken invalidates the entry, nothing else does.
type botTokenCache struct {
	load func(name string) (string, error)
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]botTokenEntry
}

type botTokenEntry struct {
	token   string
	written time.Time
}

const (
	botTokenCacheTTL  = 2 * time.Minute
	botTokenCacheSize = 1000
)

func newBotTokenCache(load func(name string) (string, error)) *botTokenCache {
	return &botTokenCache{load: load, now: time.Now, entries: map[string]botTokenEntry{}}
}

// token is BotTokenCache.getToken: the stored token, or false where upstream returns null.
func (c *botTokenCache) token(name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	token, ok := c.get(name)
	if ok && token == "" {
		delete(c.entries, name)
		token, ok = c.get(name)
	}
	return token, ok
}

func (c *botTokenCache) get(name string) (string, bool) {
	now := c.now()
	if e, ok := c.entries[name]; ok && now.Before(e.written.Add(botTokenCacheTTL)) {
		return e.token, true
	}
	delete(c.entries, name)
	token, err := c.load(name)
	if err != nil {
		logDebug("BotTokenCache: %s: %v", name, err)
		return "", false
	}
	if len(c.entries) >= botTokenCacheSize {
		c.evictOldest()
	}
	c.entries[name] = botTokenEntry{token: token, written: now}
	return token, true
}

func (c *botTokenCache) evictOldest() {
	oldest := ""
	for name, e := range c.entries {
		if oldest == "" || e.written.Before(c.entries[oldest].written) {
			oldest = name
		}
	}
	delete(c.entries, oldest)
}

// storedBotToken is BotTokenLoader.load on an entity store: the JWTToken of the non-deleted user
// of that name. A missing user, or one without an authentication mechanism, is a failure (upstream:
// EntityNotFoundException, or a null the cache refuses).
func storedBotToken(es entityStore, name string) (string, error) {
	u, err := es.userByName(name)
	if err != nil {
		return "", err
	}
	if u == nil {
		return "", errors.New("user instance for " + name + " not found")
	}
	if u.AuthenticationMechanism == nil {
		return "", errors.New("no authentication mechanism")
	}
	m, _ := u.jwt()
	return m.token(), nil
}

// errBotTokenMismatch is JwtFilter.validateBotToken's 401.
var errBotTokenMismatch = errors.New("The given token does not match the current bot's token!")

// isBotClaim is SecurityUtil.isBot: an isBot claim that is boolean true.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/security/SecurityUtil.java
// @ 03c865295292b08eea509fb99f191b2ead3fa66e: claims.containsKey("isBot") &&
// TRUE.equals(claims.get("isBot").asBoolean()). JwtFilter keeps the claims in a case-insensitive
// TreeMap.
func isBotClaim(claims map[string]any) bool {
	v, ok := claimCI(claims, "isBot")
	b, isBool := v.(bool)
	return ok && isBool && b
}

func claimCI(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, true
	}
	for k, v := range claims {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// botUserName is the name JwtFilter resolves for a bot token: SecurityUtil.findUserNameFromClaims
// with a bot's claims, which ignores jwtPrincipalClaimsMapping and takes the first claim of
// jwtPrincipalClaims the token has, its part before '@', lower-cased.
//
// OpenMetadata .../security/SecurityUtil.java @ 03c865295292b08eea509fb99f191b2ead3fa66e
// (findUserNameFromClaims, getFirstMatchJwtClaim, getClaimOrObject: a claim that is not a string
// reads as null); none present: AuthenticationException "Invalid JWT token, none of the following
// claims are present [..]". The newest stored JwtFilter (Jason-Clark-FG/OpenMetadata-Mirror @
// 1aa230fdb9666e5fbaa511f2cff3bb84feffce22) resolves bots the same way (no email-first flow for
// bots). For a token JWTTokenGenerator made, email then sub give the bot's name.
func botUserName(claims map[string]any, principalClaims []string) (string, error) {
	for _, name := range principalClaims {
		v, ok := claimCI(claims, name)
		if !ok {
			continue
		}
		s, _ := v.(string)
		if i := strings.Index(s, "@"); i >= 0 {
			s = s[:i]
		}
		return strings.ToLower(s), nil
	}
	return "", errors.New("Invalid JWT token, none of the following claims are present [" + strings.Join(principalClaims, ", ") + "]")
}
