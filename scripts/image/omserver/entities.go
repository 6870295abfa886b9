package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
)

// The few OpenMetadata entities the stand-in keeps (users, bots, ingestion pipelines), as JSON
// documents in the tables OpenMetadata's first migration creates for them.
//
// OpenMetadata bootstrap/sql/migrations/flyway/org.postgresql.Driver/v001__create_db_connection_info.sql
// @ b66d3765af9d5b84cdc06ad9e90f4ab1e5796c02: user_entity, bot_entity (JSONB) and
// ingestion_pipeline_entity (JSON) keep the entity as `json`, with id, name (or
// fullyQualifiedName), email, updatedAt, updatedBy and deleted as columns GENERATED from it;
// entity_relationship (fromId, toId, fromEntity, toEntity, relation SMALLINT, jsonSchema, json,
// deleted; PRIMARY KEY (fromId, toId, relation)) keeps the relationships, which are not part of the
// stored JSON. Later migrations add hash columns and indexes the stand-in does not need; 1.13.0's
// release notes say entity_relationship's primary key then includes relationType (not emulated).
var entityTables = []string{
	`CREATE TABLE IF NOT EXISTS entity_relationship (
    fromId VARCHAR(36) NOT NULL,
    toId VARCHAR(36) NOT NULL,
    fromEntity VARCHAR(256) NOT NULL,
    toEntity VARCHAR(256) NOT NULL,
    relation SMALLINT NOT NULL,
    jsonSchema VARCHAR(256),
    json JSONB,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (fromId, toId, relation)
)`,
	`CREATE TABLE IF NOT EXISTS user_entity (
    id VARCHAR(36) GENERATED ALWAYS AS (json ->> 'id') STORED NOT NULL,
    name VARCHAR(256) GENERATED ALWAYS AS (json ->> 'name') STORED NOT NULL,
    email VARCHAR(256) GENERATED ALWAYS AS (json ->> 'email') STORED NOT NULL,
    deactivated VARCHAR(8) GENERATED ALWAYS AS (json ->> 'deactivated') STORED,
    json JSONB NOT NULL,
    updatedAt BIGINT GENERATED ALWAYS AS ((json ->> 'updatedAt')::bigint) STORED NOT NULL,
    updatedBy VARCHAR(256) GENERATED ALWAYS AS (json ->> 'updatedBy') STORED NOT NULL,
    deleted BOOLEAN GENERATED ALWAYS AS ((json ->> 'deleted')::boolean) STORED,
    PRIMARY KEY (id),
    UNIQUE (name)
)`,
	`CREATE TABLE IF NOT EXISTS bot_entity (
    id VARCHAR(36) GENERATED ALWAYS AS (json ->> 'id') STORED NOT NULL,
    name VARCHAR(256) GENERATED ALWAYS AS (json ->> 'name') STORED NOT NULL,
    json JSONB NOT NULL,
    updatedAt BIGINT GENERATED ALWAYS AS ((json ->> 'updatedAt')::bigint) STORED NOT NULL,
    updatedBy VARCHAR(256) GENERATED ALWAYS AS (json ->> 'updatedBy') STORED NOT NULL,
    deleted BOOLEAN GENERATED ALWAYS AS ((json ->> 'deleted')::boolean) STORED,
    PRIMARY KEY (id),
    UNIQUE (name)
)`,
	`CREATE TABLE IF NOT EXISTS ingestion_pipeline_entity (
    id VARCHAR(36) GENERATED ALWAYS AS (json ->> 'id') STORED NOT NULL,
    fullyQualifiedName VARCHAR(256) GENERATED ALWAYS AS (json ->> 'fullyQualifiedName') STORED NOT NULL,
    json JSON NOT NULL,
    updatedAt BIGINT GENERATED ALWAYS AS ((json ->> 'updatedAt')::bigint) STORED NOT NULL,
    updatedBy VARCHAR(256) GENERATED ALWAYS AS (json ->> 'updatedBy') STORED NOT NULL,
    deleted BOOLEAN GENERATED ALWAYS AS ((json ->> 'deleted')::boolean) STORED,
    timestamp BIGINT,
    PRIMARY KEY (id),
    UNIQUE (fullyQualifiedName)
)`,
	// Not upstream: what a deployment pinned, per ingestion pipeline. Upstream the pipeline service
	// (Airflow) writes the bot token into the deployed DAG's configuration
	// (dag_generated_configs/<dag>.json, openMetadataServerConnection.securityConfig.jwtToken;
	// openmetadata-server-behaviour.md §5); the stand-in has no Airflow and keeps it here.
	`CREATE TABLE IF NOT EXISTS standin_pipeline_deployment (
    pipelineId VARCHAR(36) NOT NULL,
    botToken TEXT NOT NULL,
    deployedAt BIGINT NOT NULL,
    PRIMARY KEY (pipelineId)
)`,
}

var entityTableNames = []string{"entity_relationship", "user_entity", "bot_entity", "ingestion_pipeline_entity", "standin_pipeline_deployment"}

// relationContains is Relationship.CONTAINS, stored as its ordinal.
//
// OpenMetadata openmetadata-spec/src/main/resources/json/schema/type/entityRelationship.json
// @ 098541a720a59c4494448b9dd5b75fca1c173120: "contains" is the first enum value (ordinals are
// stored in the database). A bot CONTAINS its bot user: UserResource finds a user's bot with
// findFrom(user, USER, CONTAINS, BOT) and a bot's user with findTo(bot, BOT, CONTAINS, USER)
// (.../resources/teams/UserResource.java @ 00866328d39e2d937adff382190a04291eb914bf).
const relationContains = 0

// entityReference is EntityReference as an entity's relationship fields show it.
type entityReference struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Deleted            *bool  `json:"deleted,omitempty"`
}

// jwtAuthMechanism is JWTAuthMechanism (auth/jwtAuth.json: JWTToken, JWTTokenExpiry,
// JWTTokenExpiresAt); a revoked token is stored as "" (UserResource.revokeToken), hence pointers.
// Generated POJOs carry @JsonInclude(NON_NULL): null fields are left out.
type jwtAuthMechanism struct {
	JWTToken          *string `json:"JWTToken,omitempty"`
	JWTTokenExpiry    *string `json:"JWTTokenExpiry,omitempty"`
	JWTTokenExpiresAt *int64  `json:"JWTTokenExpiresAt,omitempty"`
}

func (m jwtAuthMechanism) token() string {
	if m.JWTToken == nil {
		return ""
	}
	return *m.JWTToken
}

// authenticationMechanism is the user's AuthenticationMechanism {authType: JWT|SSO|BASIC, config}.
type authenticationMechanism struct {
	AuthType string          `json:"authType,omitempty"`
	Config   json.RawMessage `json:"config,omitempty"`
}

// userEntity is the part of User the stand-in keeps. Upstream stores the bot token encrypted
// (Fernet, or in a secrets manager); the stand-in stores it in clear (README.md).
type userEntity struct {
	ID                      string                   `json:"id"`
	Name                    string                   `json:"name"`
	FullyQualifiedName      string                   `json:"fullyQualifiedName"`
	Email                   string                   `json:"email"`
	IsBot                   bool                     `json:"isBot"`
	IsAdmin                 bool                     `json:"isAdmin"`
	AuthenticationMechanism *authenticationMechanism `json:"authenticationMechanism,omitempty"`
	Version                 float64                  `json:"version"`
	UpdatedAt               int64                    `json:"updatedAt"`
	UpdatedBy               string                   `json:"updatedBy"`
	Deleted                 bool                     `json:"deleted"`
}

// jwt is the user's JWTAuthMechanism when its authType is JWT.
func (u *userEntity) jwt() (jwtAuthMechanism, bool) {
	m := u.AuthenticationMechanism
	if m == nil || m.AuthType != "JWT" {
		return jwtAuthMechanism{}, false
	}
	var j jwtAuthMechanism
	if len(m.Config) > 0 && json.Unmarshal(m.Config, &j) != nil {
		return jwtAuthMechanism{}, false
	}
	return j, true
}

func (u *userEntity) setJWT(m jwtAuthMechanism) {
	config, _ := json.Marshal(m)
	u.AuthenticationMechanism = &authenticationMechanism{AuthType: "JWT", Config: config}
}

func (u *userEntity) reference() *entityReference {
	deleted := u.Deleted
	return &entityReference{ID: u.ID, Type: "user", Name: u.Name, FullyQualifiedName: u.FullyQualifiedName, Deleted: &deleted}
}

// botEntity is Bot; botUser is a relationship (entity_relationship), not stored in the JSON.
type botEntity struct {
	ID                 string           `json:"id"`
	Name               string           `json:"name"`
	FullyQualifiedName string           `json:"fullyQualifiedName"`
	BotUser            *entityReference `json:"botUser,omitempty"`
	Provider           string           `json:"provider,omitempty"`
	Version            float64          `json:"version"`
	UpdatedAt          int64            `json:"updatedAt"`
	UpdatedBy          string           `json:"updatedBy"`
	Deleted            bool             `json:"deleted"`
}

// pipelineEntity is IngestionPipeline. Not upstream: `service` is kept in the JSON (upstream it is
// a relationship to a service entity the stand-in does not have).
type pipelineEntity struct {
	ID                 string          `json:"id"`
	Name               string          `json:"name"`
	FullyQualifiedName string          `json:"fullyQualifiedName"`
	PipelineType       string          `json:"pipelineType"`
	Service            entityReference `json:"service"`
	Deployed           bool            `json:"deployed"`
	Version            float64         `json:"version"`
	UpdatedAt          int64           `json:"updatedAt"`
	UpdatedBy          string          `json:"updatedBy"`
	Deleted            bool            `json:"deleted"`
}

// deployment is what a deployment pinned for a pipeline (standin_pipeline_deployment).
type deployment struct {
	PipelineID string
	BotToken   string
	DeployedAt int64
}

// entityStore is what the bot, token and pipeline code needs of the database; *store is the
// PostgreSQL one, the tests have one in memory.
type entityStore interface {
	userByName(name string) (*userEntity, error) // non-deleted; nil when there is none
	userByID(id string) (*userEntity, error)     // non-deleted; nil when there is none
	insertUser(u *userEntity) (bool, error)      // false when a user of that id or name exists
	updateUser(u *userEntity) error
	botByName(name string) (*botEntity, error) // non-deleted, botUser filled; nil when none
	insertBot(b *botEntity) (bool, error)
	addBotUser(botID, userID string) error
	listBots() ([]botEntity, error) // non-deleted, by name, botUser filled
	listPipelines() ([]pipelineEntity, error)
	insertPipeline(p *pipelineEntity) (bool, error)
	recordDeployment(p pipelineEntity, token string, at int64) error
	deployments() (map[string]deployment, error)
}

// newUUID is a random (version 4) UUID, as UUID.randomUUID() makes entity ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// nextVersion is EntityUpdater's minor version change: +0.1.
func nextVersion(v float64) float64 {
	return math.Round(v*10+1) / 10
}

// ---- PostgreSQL ----

func (s *store) queryJSON(sql string, args ...any) ([]byte, error) {
	ctx, cancel := ctxTimeout()
	defer cancel()
	var text string
	err := s.conn.QueryRow(ctx, sql, args...).Scan(&text)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []byte(text), nil
}

func (s *store) exec(sql string, args ...any) (int64, error) {
	ctx, cancel := ctxTimeout()
	defer cancel()
	tag, err := s.conn.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (s *store) userByName(name string) (*userEntity, error) {
	return decodeRow[userEntity](s.queryJSON(`SELECT json::text FROM user_entity WHERE name = $1 AND deleted IS NOT TRUE`, name))
}

func (s *store) userByID(id string) (*userEntity, error) {
	return decodeRow[userEntity](s.queryJSON(`SELECT json::text FROM user_entity WHERE id = $1 AND deleted IS NOT TRUE`, id))
}

func (s *store) insertUser(u *userEntity) (bool, error) {
	n, err := s.exec(`INSERT INTO user_entity (json) VALUES ($1::jsonb) ON CONFLICT DO NOTHING`, string(mustJSON(u)))
	return n > 0, err
}

func (s *store) updateUser(u *userEntity) error {
	n, err := s.exec(`UPDATE user_entity SET json = $2::jsonb WHERE id = $1`, u.ID, string(mustJSON(u)))
	if err == nil && n == 0 {
		err = fmt.Errorf("user instance for %s not found", u.ID)
	}
	return err
}

func (s *store) botUser(botID string) (*entityReference, error) {
	u, err := decodeRow[userEntity](s.queryJSON(`SELECT u.json::text FROM entity_relationship r JOIN user_entity u ON u.id = r.toId
WHERE r.fromId = $1 AND r.fromEntity = 'bot' AND r.toEntity = 'user' AND r.relation = $2 AND r.deleted = FALSE`, botID, relationContains))
	if err != nil || u == nil {
		return nil, err
	}
	return u.reference(), nil
}

func (s *store) botByName(name string) (*botEntity, error) {
	b, err := decodeRow[botEntity](s.queryJSON(`SELECT json::text FROM bot_entity WHERE name = $1 AND deleted IS NOT TRUE`, name))
	if err != nil || b == nil {
		return nil, err
	}
	b.BotUser, err = s.botUser(b.ID)
	return b, err
}

func (s *store) insertBot(b *botEntity) (bool, error) {
	stored := *b
	stored.BotUser = nil
	n, err := s.exec(`INSERT INTO bot_entity (json) VALUES ($1::jsonb) ON CONFLICT DO NOTHING`, string(mustJSON(stored)))
	return n > 0, err
}

func (s *store) addBotUser(botID, userID string) error {
	_, err := s.exec(`INSERT INTO entity_relationship (fromId, toId, fromEntity, toEntity, relation)
VALUES ($1, $2, 'bot', 'user', $3) ON CONFLICT DO NOTHING`, botID, userID, relationContains)
	return err
}

func (s *store) listBots() ([]botEntity, error) {
	bots, err := queryRows[botEntity](s, `SELECT json::text FROM bot_entity WHERE deleted IS NOT TRUE ORDER BY name`)
	if err != nil {
		return nil, err
	}
	for i := range bots {
		if bots[i].BotUser, err = s.botUser(bots[i].ID); err != nil {
			return nil, err
		}
	}
	return bots, nil
}

func (s *store) listPipelines() ([]pipelineEntity, error) {
	return queryRows[pipelineEntity](s, `SELECT json::text FROM ingestion_pipeline_entity WHERE deleted IS NOT TRUE ORDER BY fullyQualifiedName`)
}

func (s *store) insertPipeline(p *pipelineEntity) (bool, error) {
	n, err := s.exec(`INSERT INTO ingestion_pipeline_entity (json) VALUES ($1::json) ON CONFLICT DO NOTHING`, string(mustJSON(p)))
	return n > 0, err
}

func (s *store) recordDeployment(p pipelineEntity, token string, at int64) error {
	ctx, cancel := ctxTimeout()
	defer cancel()
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `INSERT INTO standin_pipeline_deployment (pipelineId, botToken, deployedAt) VALUES ($1, $2, $3)
ON CONFLICT (pipelineId) DO UPDATE SET botToken = EXCLUDED.botToken, deployedAt = EXCLUDED.deployedAt`, p.ID, token, at); err != nil {
		return err
	}
	p.Deployed = true
	if _, err := tx.Exec(ctx, `UPDATE ingestion_pipeline_entity SET json = $2::json WHERE id = $1`, p.ID, string(mustJSON(p))); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (s *store) deployments() (map[string]deployment, error) {
	ctx, cancel := ctxTimeout()
	defer cancel()
	rows, err := s.conn.Query(ctx, `SELECT pipelineId, botToken, deployedAt FROM standin_pipeline_deployment`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]deployment{}
	for rows.Next() {
		var d deployment
		if err := rows.Scan(&d.PipelineID, &d.BotToken, &d.DeployedAt); err != nil {
			return nil, err
		}
		out[d.PipelineID] = d
	}
	return out, rows.Err()
}

func queryRows[T any](s *store, sql string, args ...any) ([]T, error) {
	ctx, cancel := ctxTimeout()
	defer cancel()
	rows, err := s.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func decodeRow[T any](data []byte, err error) (*T, error) {
	if err != nil || data == nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func mustJSON(v any) []byte {
	b, err := compactJSON(v)
	if err != nil {
		panic(err)
	}
	return b
}

// entityTablesExist reports whether `migrate` created the entity tables.
func (s *store) entityTablesExist() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	var n int
	err := s.conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1)`, entityTableNames).Scan(&n)
	return n == len(entityTableNames), err
}
