package main

import (
	"encoding/json"
	"sort"
	"testing"
	"time"
)

// memStore is an entityStore in memory, for the tests (entities.go has the PostgreSQL one).
type memStore struct {
	users     map[string]userEntity // by id
	bots      map[string]botEntity  // by id
	botUsers  map[string]string     // bot id → user id (entity_relationship, CONTAINS)
	pipelines map[string]pipelineEntity
	deps      map[string]deployment
}

func newMemStore() *memStore {
	return &memStore{users: map[string]userEntity{}, bots: map[string]botEntity{}, botUsers: map[string]string{},
		pipelines: map[string]pipelineEntity{}, deps: map[string]deployment{}}
}

// deepCopy goes through JSON, as the database does: nothing the caller keeps is shared.
func deepCopy[T any](v T) *T {
	var out T
	data, _ := json.Marshal(v)
	_ = json.Unmarshal(data, &out)
	return &out
}

func (m *memStore) userByName(name string) (*userEntity, error) {
	for _, u := range m.users {
		if u.Name == name && !u.Deleted {
			return deepCopy(u), nil
		}
	}
	return nil, nil
}

func (m *memStore) userByID(id string) (*userEntity, error) {
	if u, ok := m.users[id]; ok && !u.Deleted {
		return deepCopy(u), nil
	}
	return nil, nil
}

func (m *memStore) insertUser(u *userEntity) (bool, error) {
	for _, v := range m.users {
		if v.ID == u.ID || v.Name == u.Name {
			return false, nil
		}
	}
	m.users[u.ID] = *deepCopy(*u)
	return true, nil
}

func (m *memStore) updateUser(u *userEntity) error {
	m.users[u.ID] = *deepCopy(*u)
	return nil
}

func (m *memStore) withBotUser(b botEntity) *botEntity {
	out := deepCopy(b)
	out.BotUser = nil
	if uid, ok := m.botUsers[b.ID]; ok {
		if u, ok := m.users[uid]; ok {
			out.BotUser = u.reference()
		}
	}
	return out
}

func (m *memStore) botByName(name string) (*botEntity, error) {
	for _, b := range m.bots {
		if b.Name == name && !b.Deleted {
			return m.withBotUser(b), nil
		}
	}
	return nil, nil
}

func (m *memStore) insertBot(b *botEntity) (bool, error) {
	for _, v := range m.bots {
		if v.ID == b.ID || v.Name == b.Name {
			return false, nil
		}
	}
	stored := *deepCopy(*b)
	stored.BotUser = nil
	m.bots[b.ID] = stored
	return true, nil
}

func (m *memStore) addBotUser(botID, userID string) error {
	if _, ok := m.botUsers[botID]; !ok {
		m.botUsers[botID] = userID
	}
	return nil
}

func (m *memStore) listBots() ([]botEntity, error) {
	var out []botEntity
	for _, b := range m.bots {
		if !b.Deleted {
			out = append(out, *m.withBotUser(b))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *memStore) listPipelines() ([]pipelineEntity, error) {
	var out []pipelineEntity
	for _, p := range m.pipelines {
		if !p.Deleted {
			out = append(out, *deepCopy(p))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FullyQualifiedName < out[j].FullyQualifiedName })
	return out, nil
}

func (m *memStore) insertPipeline(p *pipelineEntity) (bool, error) {
	for _, v := range m.pipelines {
		if v.ID == p.ID || v.FullyQualifiedName == p.FullyQualifiedName {
			return false, nil
		}
	}
	m.pipelines[p.ID] = *deepCopy(*p)
	return true, nil
}

func (m *memStore) recordDeployment(p pipelineEntity, token string, at int64) error {
	m.deps[p.ID] = deployment{PipelineID: p.ID, BotToken: token, DeployedAt: at}
	p.Deployed = true
	m.pipelines[p.ID] = *deepCopy(p)
	return nil
}

func (m *memStore) deployments() (map[string]deployment, error) {
	out := map[string]deployment{}
	for k, v := range m.deps {
		out[k] = v
	}
	return out, nil
}

func (m *memStore) access() *dbAccess {
	return &dbAccess{open: func() (entityStore, func(), error) { return m, func() {}, nil }}
}

// keyPair is a generator holding a fresh key pair under kid, with the template's issuer.
func keyPair(t *testing.T, kid string) tokenGenerator {
	t.Helper()
	k := newKey(t)
	return tokenGenerator{privateKey: k, publicKey: &k.PublicKey, issuer: "open-metadata.org", kid: &kid}
}

// serverChecker is the server's token check with generator g's key and the bot-token comparison
// against es (a cache of its own, on the given clock).
func serverChecker(g tokenGenerator, es entityStore, clock func() time.Time, urls ...string) *tokenChecker {
	c := newTokenChecker(g, urls)
	c.now = clock
	c.principalClaims = []string{"email", "preferred_username", "sub"}
	c.bots = newBotTokenCache(func(name string) (string, error) { return storedBotToken(es, name) })
	c.bots.now = clock
	return c
}

func storedToken(t *testing.T, es entityStore, name string) string {
	t.Helper()
	token, err := storedBotToken(es, name)
	if err != nil {
		t.Fatalf("stored token of %s: %v", name, err)
	}
	return token
}
