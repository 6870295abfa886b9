package main

import (
	"fmt"
	"time"
)

const (
	ingestionBotName = "ingestion-bot"
	// adminUserName is Entity.ADMIN_USER_NAME, the updatedBy of the ops commands' writes.
	adminUserName = "admin"
	// defaultPrincipalDomain is SecurityUtil.DEFAULT_PRINCIPAL_DOMAIN
	// (.../security/SecurityUtil.java @ 03c865295292b08eea509fb99f191b2ead3fa66e).
	defaultPrincipalDomain = "openmetadata.org"
)

// principalDomain is SecurityUtil.getDomain(config): authorizerConfiguration.principalDomain, or
// "openmetadata.org" when it is null or empty
// (.../security/SecurityUtil.java @ 03c865295292b08eea509fb99f191b2ead3fa66e).
func principalDomain(authorizer obj) string {
	if d, ok := authorizer["principalDomain"].(string); ok && d != "" {
		return d
	}
	return defaultPrincipalDomain
}

// ensureIngestionBot is what BotResource.initialize does for the ingestion bot at every start.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/resources/bots/BotResource.java
// @ 0582ca4cfbbd64742fddb36deae90e1154292591 (initialize): for each bot user of the seed data
// (json/data/botUser/*.json; ingestion-bot among them) it builds UserUtil.user(name, domain, name)
// with isBot = true and isAdmin = false (email name@domain, domain = SecurityUtil.getDomain) and calls
// UserUtil.addOrUpdateBotUser(user); then for each bot of the seed data it binds the bot to that
// user and calls initializeEntity(bot).
//
// OpenMetadata .../util/UserUtil.java @ 0da8a99556ef96d2e576a670704cc2abf616effb
// (Jason-Clark-FG/OpenMetadata-Mirror; addOrUpdateBotUser): the stored user's authentication
// mechanism is kept when there is one; only when it is null is a token made,
// JWTTokenGenerator.generateJWTToken(user, JWTTokenExpiry.Unlimited), and stored as
// {authType: JWT, config: JWTAuthMechanism}. So a start with a new key pair does NOT renew the
// bot's token: it keeps the one the previous key signed (regenerate-bot-tokens is for that).
//
// Not transcribed: the other seed bots and their roles, the bot's and the user's display names and
// descriptions from the seed files (not found in the index), the update of the other fields of an
// existing bot user. A concurrent start's insert wins (upstream: "In HA set up the other server may
// have already added the user"). When no token can be made (the key files did not load) upstream
// the exception leaves the bot without a user; that the server then still starts was not verified:
// the stand-in logs the error and starts (existing tests start pods with unreadable keys).
func ensureIngestionBot(es entityStore, g tokenGenerator, domain string, now time.Time) error {
	user, err := es.userByName(ingestionBotName)
	if err != nil {
		return err
	}
	if user == nil {
		user = &userEntity{
			ID: newUUID(), Name: ingestionBotName, FullyQualifiedName: ingestionBotName,
			Email: ingestionBotName + "@" + domain, IsBot: true, IsAdmin: false,
			Version: 0.1, UpdatedAt: now.UnixMilli(), UpdatedBy: ingestionBotName,
		}
		mechanism, err := g.generateJWTToken(user, unlimitedExpiry, now)
		if err != nil {
			logError("Failed to create the %s user: %v", ingestionBotName, err)
			return nil
		}
		user.setJWT(mechanism)
		inserted, err := es.insertUser(user)
		if err != nil {
			return err
		}
		if !inserted {
			if user, err = es.userByName(ingestionBotName); err != nil || user == nil {
				return fmt.Errorf("%s: %v", ingestionBotName, err)
			}
		} else {
			logInfo("created the %s user with a JWT token of key %s (no expiry)", ingestionBotName, tokenKid(mechanism.token()))
		}
	} else if user.AuthenticationMechanism == nil {
		mechanism, err := g.generateJWTToken(user, unlimitedExpiry, now)
		if err != nil {
			logError("Failed to update the %s user: %v", ingestionBotName, err)
			return nil
		}
		user.setJWT(mechanism)
		user.Version, user.UpdatedAt, user.UpdatedBy = nextVersion(user.Version), now.UnixMilli(), ingestionBotName
		if err := es.updateUser(user); err != nil {
			return err
		}
		logInfo("gave the %s user a JWT token of key %s (no expiry)", ingestionBotName, tokenKid(mechanism.token()))
	} else if m, ok := user.jwt(); ok {
		logInfo("the %s user keeps its stored JWT token (key %s)", ingestionBotName, tokenKid(m.token()))
	}

	bot, err := es.botByName(ingestionBotName)
	if err != nil {
		return err
	}
	if bot == nil {
		bot = &botEntity{
			ID: newUUID(), Name: ingestionBotName, FullyQualifiedName: ingestionBotName, Provider: "system",
			Version: 0.1, UpdatedAt: now.UnixMilli(), UpdatedBy: adminUserName,
		}
		if _, err := es.insertBot(bot); err != nil {
			return err
		}
		if bot, err = es.botByName(ingestionBotName); err != nil || bot == nil {
			return fmt.Errorf("bot %s: %v", ingestionBotName, err)
		}
	}
	if bot.BotUser == nil {
		return es.addBotUser(bot.ID, user.ID)
	}
	return nil
}

// seedPipelines is the stand-in's own: it has no UI or API to create ingestion pipelines, so each
// start adds two of a service "sample_postgres" when they are missing, for deploy-pipelines to
// deploy (README.md). Their shape follows IngestionPipeline: fullyQualifiedName is
// <service>.<name> (IngestionPipelineRepository.setFullyQualifiedName), pipelineType "metadata" and
// "usage", deployed false until a deployment.
func seedPipelines(es entityStore, now time.Time) error {
	service := entityReference{ID: "00000000-0000-4000-8000-000000000001", Type: "databaseService", Name: "sample_postgres", FullyQualifiedName: "sample_postgres"}
	for _, p := range []struct{ name, kind string }{
		{"sample_postgres_metadata", "metadata"},
		{"sample_postgres_usage", "usage"},
	} {
		inserted, err := es.insertPipeline(&pipelineEntity{
			ID: newUUID(), Name: p.name, FullyQualifiedName: service.Name + "." + p.name, PipelineType: p.kind,
			Service: service, Version: 0.1, UpdatedAt: now.UnixMilli(), UpdatedBy: adminUserName,
		})
		if err != nil {
			return err
		}
		if inserted {
			logInfo("seeded the ingestion pipeline %s.%s (stand-in only)", service.Name, p.name)
		}
	}
	return nil
}

// dbAccess opens the database for one request or command (a connection each time: the stand-in's
// traffic is a test's).
type dbAccess struct {
	open func() (entityStore, func(), error)
}

func pgAccess(db databaseConfig) *dbAccess {
	return &dbAccess{open: func() (entityStore, func(), error) {
		st, err := openStore(db)
		if err != nil {
			return nil, nil, err
		}
		return st, st.close, nil
	}}
}

func (d *dbAccess) with(f func(es entityStore) error) error {
	es, done, err := d.open()
	if err != nil {
		return err
	}
	defer done()
	return f(es)
}

// bootstrapEntities runs at the server's start (1.10 and later): the ingestion bot, then the
// stand-in's pipelines.
func bootstrapEntities(d *dbAccess, cfg *appConfig, g tokenGenerator) error {
	return d.with(func(es entityStore) error {
		now := time.Now()
		if err := ensureIngestionBot(es, g, principalDomain(cfg.authorizer), now); err != nil {
			return err
		}
		return seedPipelines(es, now)
	})
}
