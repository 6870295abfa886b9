package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The settings types of the two rows, as SettingsType.value() spells them.
const (
	authenticationType = "authenticationConfiguration"
	authorizerType     = "authorizerConfiguration"
)

// store is the server's view of the openmetadata_settings table.
type store struct {
	conn *pgx.Conn
}

const dbTimeout = 15 * time.Second

// openStore connects to the database the `database` block names. Only PostgreSQL is emulated.
// The JDBC URL's query parameters are driver properties; the stand-in honours sslmode and
// ignores the others (the template's MySQL defaults among them), as PostgreSQL's JDBC driver
// ignores properties it does not know.
func openStore(db databaseConfig) (*store, error) {
	cfg, err := connConfig(db)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the database: %w", err)
	}
	return &store{conn: conn}, nil
}

func connConfig(db databaseConfig) (*pgx.ConnConfig, error) {
	rest, ok := strings.CutPrefix(db.url, "jdbc:")
	if !ok {
		return nil, fmt.Errorf("database.url is not a JDBC URL")
	}
	u, err := url.Parse(rest)
	if err != nil {
		return nil, fmt.Errorf("database.url: %w", err)
	}
	if u.Scheme != "postgresql" || db.driverClass != "org.postgresql.Driver" {
		return nil, fmt.Errorf("the stand-in emulates PostgreSQL only: set DB_SCHEME=postgresql and DB_DRIVER_CLASS=org.postgresql.Driver")
	}
	sslmode := u.Query().Get("sslmode")
	if sslmode == "" {
		sslmode = "prefer" // PostgreSQL's JDBC driver's default
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("database.url: bad port")
	}
	dsn := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(db.user, db.password),
		Host:     u.Hostname() + ":" + port,
		Path:     u.Path,
		RawQuery: url.Values{"sslmode": {sslmode}, "connect_timeout": {"10"}}.Encode(),
	}
	return pgx.ParseConfig(dsn.String())
}

func (s *store) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.conn.Close(ctx)
}

func ctxTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), dbTimeout)
}

// migrate creates what the stand-in reads and writes, as OpenMetadata's `migrate` does.
//
// OpenMetadata bootstrap/sql/migrations/flyway/org.postgresql.Driver/v004__create_db_connection_info.sql
// @ 4135866e459334197ddb325f4d52b7d1578ea595: openmetadata_settings (id SERIAL, configType
// VARCHAR(36) NOT NULL, json JSONB NOT NULL, PRIMARY KEY (id, configType), UNIQUE(configType)).
// For 2.1 the design note "Settings defined in both the deployment configuration and the
// database" (in the repository with the config/source package, commit 8c54ce31…) says the 2.1.0
// migration adds openmetadata_settings.deployment_snapshot; that migration's text was not found
// in the index, so the column type here (TEXT, holding the snapshot's JSON) is the stand-in's.
// It also creates the entity tables the bots and ingestion pipelines live in (entities.go).
func (s *store) migrate(withSnapshot bool) error {
	ctx, cancel := ctxTimeout()
	defer cancel()
	stmts := []string{`CREATE TABLE IF NOT EXISTS openmetadata_settings (
    id SERIAL NOT NULL,
    configType VARCHAR(36) NOT NULL,
    json JSONB NOT NULL,
    PRIMARY KEY (id, configType),
    UNIQUE(configType)
)`}
	if withSnapshot {
		stmts = append(stmts, `ALTER TABLE openmetadata_settings ADD COLUMN IF NOT EXISTS deployment_snapshot TEXT`)
	}
	stmts = append(stmts, entityTables...)
	// Not upstream in this form: the pods of a Deployment run `migrate` in their init containers at
	// the same time, and concurrent CREATE TABLE IF NOT EXISTS of one table can fail in PostgreSQL;
	// OpenMetadata's Flyway serialises migrations with a lock, the stand-in with an advisory lock
	// held by one transaction.
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(4242424242)`); err != nil {
		return err
	}
	for _, stmt := range stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// migrated reports whether `migrate` ran: the settings table (and for 2.1 the snapshot column)
// and the entity tables exist.
func (s *store) migrated(withSnapshot bool) (bool, error) {
	if ok, err := s.entityTablesExist(); err != nil || !ok {
		return false, err
	}
	ctx, cancel := ctxTimeout()
	defer cancel()
	var n int
	err := s.conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
WHERE table_name = 'openmetadata_settings' AND column_name IN ('json', 'deployment_snapshot')`).Scan(&n)
	if err != nil {
		return false, err
	}
	if withSnapshot {
		return n == 2, nil
	}
	return n >= 1, nil
}

// getConfig is SystemDAO.getConfigWithKey: the row's JSON, or nil when there is none.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/jdbi3/CollectionDAO.java,
// interface SystemDAO (a stored version read through the index, which did not record its commit;
// the file's newest stored version is 1a0490187a2e7e6c63cc7b25541efa381e38d4e6): "SELECT
// configType, json FROM openmetadata_settings WHERE configType = :configType".
func (s *store) getConfig(configType string) ([]byte, error) {
	ctx, cancel := ctxTimeout()
	defer cancel()
	var text string
	err := s.conn.QueryRow(ctx, `SELECT json::text FROM openmetadata_settings WHERE configType = $1`, configType).Scan(&text)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []byte(text), nil
}

// insertSettings is SystemDAO.insertSettings on PostgreSQL (what createNewSetting ends in):
// "INSERT into openmetadata_settings (configType, json) VALUES (:configType, :json :: jsonb)
// ON CONFLICT (configType) DO UPDATE SET json = EXCLUDED.json" (CollectionDAO.java, as above).
func (s *store) insertSettings(configType string, json []byte) error {
	ctx, cancel := ctxTimeout()
	defer cancel()
	_, err := s.conn.Exec(ctx, `INSERT INTO openmetadata_settings (configType, json) VALUES ($1, $2::jsonb)
ON CONFLICT (configType) DO UPDATE SET json = EXCLUDED.json`, configType, string(json))
	return err
}

// deleteSettings is SystemDAO.delete: "DELETE from openmetadata_settings WHERE configType =
// :configType" (CollectionDAO.java, as above).
func (s *store) deleteSettings(configType string) error {
	ctx, cancel := ctxTimeout()
	defer cancel()
	_, err := s.conn.Exec(ctx, `DELETE FROM openmetadata_settings WHERE configType = $1`, configType)
	return err
}

// storedRow is StoredSettingRow(json, snapshot) of 2.1.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/config/source/StoredSettingRow.java
// @ 8c54ce3198356604328331f9423130098b534ba8: the stored value as written and the deployment
// snapshot of the last reconciliation.
type storedRow struct {
	json     []byte
	snapshot *string
}

func (s *store) getRow(configType string) (*storedRow, error) {
	ctx, cancel := ctxTimeout()
	defer cancel()
	var (
		text     string
		snapshot *string
	)
	err := s.conn.QueryRow(ctx, `SELECT json::text, deployment_snapshot FROM openmetadata_settings WHERE configType = $1`, configType).Scan(&text, &snapshot)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &storedRow{json: []byte(text), snapshot: snapshot}, nil
}

// insertIfAbsent is 2.1's SystemDAO.insertSettingsIfAbsent (seeding writes the snapshot too);
// it reports whether it inserted.
func (s *store) insertIfAbsent(configType string, json []byte, snapshot string) (bool, error) {
	ctx, cancel := ctxTimeout()
	defer cancel()
	tag, err := s.conn.Exec(ctx, `INSERT INTO openmetadata_settings (configType, json, deployment_snapshot)
VALUES ($1, $2::jsonb, $3) ON CONFLICT (configType) DO NOTHING`, configType, string(json), snapshot)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// updateIfCurrent is 2.1's compare-and-set write of the merged value and its snapshot
// (updateSettingsWithSnapshotIfCurrent); it reports whether the row was still the one read.
func (s *store) updateIfCurrent(configType string, old, json []byte, snapshot string) (bool, error) {
	ctx, cancel := ctxTimeout()
	defer cancel()
	tag, err := s.conn.Exec(ctx, `UPDATE openmetadata_settings SET json = $3::jsonb, deployment_snapshot = $4
WHERE configType = $1 AND json = $2::jsonb`, configType, string(old), string(json), snapshot)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// updateSnapshotIfCurrent writes only the snapshot, if the row is still the one read.
func (s *store) updateSnapshotIfCurrent(configType string, old []byte, snapshot string) (bool, error) {
	ctx, cancel := ctxTimeout()
	defer cancel()
	tag, err := s.conn.Exec(ctx, `UPDATE openmetadata_settings SET deployment_snapshot = $3
WHERE configType = $1 AND json = $2::jsonb`, configType, string(old), snapshot)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}
