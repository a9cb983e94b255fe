package mongotest

import (
	"crypto/hmac"
	"crypto/md5" // SCRAM-SHA-1's password digest, as MongoDB defines it
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1" // SCRAM-SHA-1 is defined on SHA-1
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/url"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Authentication as a mongod started with --auth: SCRAM-SHA-256 and
// SCRAM-SHA-1 (RFC 5802, RFC 7677) through saslStart / saslContinue, and
// the speculative first step in the handshake (hello's
// speculativeAuthenticate). Users are made with createUser (or WithUser).
// Until a connection authenticates it may run only the commands MongoDB
// allows without it (hello, ping, buildInfo, saslStart, saslContinue,
// logout, endSessions); the others fail with 13 Unauthorized. While no user
// exists, the localhost exception lets a connection create the first one.
// There are no roles: an authenticated user may run every command.
// Passwords are used as given (MongoDB applies SASLprep to SCRAM-SHA-256
// passwords, which changes nothing for ASCII).

const (
	mechSHA256     = "SCRAM-SHA-256"
	mechSHA1       = "SCRAM-SHA-1"
	scramIterSHA1  = 10000
	scramIterSH256 = 15000
	scramSaltLen   = 28
)

// WithUser turns on access control and creates a user in the admin
// database who may authenticate with SCRAM-SHA-256 or SCRAM-SHA-1.
func WithUser(name, password string) Option {
	return func(c *config) {
		c.auth = true
		c.users = append(c.users, userSpec{db: "admin", name: name, password: password})
	}
}

type userSpec struct{ db, name, password string }

// scramCreds are one mechanism's stored credentials of a user.
type scramCreds struct {
	salt      []byte
	iter      int
	storedKey []byte
	serverKey []byte
}

// user is a database user (guarded by Server.mu).
type user struct {
	db, name string
	creds    map[string]*scramCreds // by mechanism
}

func userKey(db, name string) string { return db + "." + name }

// UserURI is the connection string of the server for a user of the admin
// database.
func (s *Server) UserURI(name, password string) string {
	return "mongodb://" + url.UserPassword(name, password).String() + "@" + s.hostPort +
		"/?replicaSet=" + replicaSetName + "&authSource=admin"
}

func (m scramMech) hash() func() hash.Hash {
	if m == mechSHA1 {
		return sha1.New
	}
	return sha256.New
}

type scramMech string

// newCreds derives a mechanism's stored credentials from a password.
func newCreds(mech scramMech, name, password string) (*scramCreds, error) {
	salt := make([]byte, scramSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	iter, secret := scramIterSH256, password
	if mech == mechSHA1 {
		iter, secret = scramIterSHA1, sha1Digest(name, password)
	}
	h := mech.hash()
	salted, err := pbkdf2.Key(h, secret, salt, iter, h().Size())
	if err != nil {
		return nil, err
	}
	clientKey := hmacSum(h, salted, "Client Key")
	stored := h()
	stored.Write(clientKey)
	return &scramCreds{salt: salt, iter: iter, storedKey: stored.Sum(nil), serverKey: hmacSum(h, salted, "Server Key")}, nil
}

// sha1Digest is MongoDB's SCRAM-SHA-1 password: hex(MD5(user:mongo:password)).
func sha1Digest(name, password string) string {
	sum := md5.Sum([]byte(name + ":mongo:" + password))
	return hex.EncodeToString(sum[:])
}

func hmacSum(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// createUserLocked adds a user with credentials for the given mechanisms.
func (s *Server) createUserLocked(db, name, password string, mechs []string) error {
	if _, exists := s.users[userKey(db, name)]; exists {
		return errf(51003, "User \"%s@%s\" already exists", name, db)
	}
	u := &user{db: db, name: name, creds: map[string]*scramCreds{}}
	for _, m := range mechs {
		c, err := newCreds(scramMech(m), name, password)
		if err != nil {
			return errf(1, "create credentials: %v", err)
		}
		u.creds[m] = c
	}
	s.users[userKey(db, name)] = u
	return nil
}

// cmdCreateUser is {createUser: name, pwd, roles, mechanisms}.
func (s *Server) cmdCreateUser(x *cmdCtx) (bson.D, error) {
	name, _ := x.cmd[0].Value.(string)
	pv, _ := x.get("pwd")
	pwd, ok := pv.(string)
	switch {
	case name == "":
		return nil, errf(2, "User name must be a non-empty string")
	case !ok || pwd == "":
		return nil, errf(2, "Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db")
	}
	mechs := []string{mechSHA1, mechSHA256}
	if mv, ok := x.get("mechanisms"); ok {
		arr, _ := mv.(bson.A)
		mechs = nil
		for _, m := range arr {
			ms, _ := m.(string)
			if ms != mechSHA1 && ms != mechSHA256 {
				return nil, errf(2, "Unknown auth mechanism '%v'", m)
			}
			mechs = append(mechs, ms)
		}
		if len(mechs) == 0 {
			return nil, errf(2, "mechanisms field must not be empty")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.createUserLocked(x.db, name, pwd, mechs); err != nil {
		return nil, err
	}
	return bson.D{}, nil
}

func (s *Server) cmdDropUser(x *cmdCtx) (bson.D, error) {
	name, _ := x.cmd[0].Value.(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userKey(x.db, name)]; !ok {
		return nil, errf(11, "User '%s@%s' not found", name, x.db)
	}
	delete(s.users, userKey(x.db, name))
	return bson.D{}, nil
}

// authFreeCommands may run before a connection authenticates.
var authFreeCommands = map[string]bool{
	"hello": true, "isMaster": true, "ismaster": true, "ping": true, "buildInfo": true, "buildinfo": true,
	"saslStart": true, "saslContinue": true, "logout": true, "endSessions": true,
}

// checkAuth fails a command a connection may not run yet.
func (s *Server) checkAuth(x *cmdCtx) error {
	if !s.cfg.auth || x.c.user != "" || authFreeCommands[x.name] {
		return nil
	}
	s.mu.Lock()
	noUsers := len(s.users) == 0
	s.mu.Unlock()
	if noUsers && x.name == "createUser" && x.db == "admin" {
		return nil // the localhost exception
	}
	return errf(13, "Command %s requires authentication", x.name)
}

// scramConv is a connection's SCRAM conversation in progress.
type scramConv struct {
	mech        scramMech
	db, user    string
	creds       *scramCreds
	nonce       string // client nonce + server nonce
	clientFirst string // client-first-message-bare
	serverFirst string
	done        bool // the proof was verified
}

func (s *Server) cmdSaslStart(x *cmdCtx) (bson.D, error) {
	mv, _ := x.get("mechanism")
	pv, _ := x.get("payload")
	return s.saslStart(x.c, x.db, mv, pv, x.cmd)
}

// saslStart reads the client-first message and answers the server-first
// one: the combined nonce, the salt and the iteration count.
func (s *Server) saslStart(c *conn, db string, mv, pv any, cmd bson.D) (bson.D, error) {
	mech, _ := mv.(string)
	if mech != mechSHA256 && mech != mechSHA1 {
		return nil, errf(334, "Received authentication for mechanism %v which is not enabled", mv)
	}
	payload, ok := pv.(bson.Binary)
	if !ok {
		return nil, errf(14, "saslStart: payload must be binary data")
	}
	msg := string(payload.Data)
	bare, ok := strings.CutPrefix(msg, "n,,")
	if !ok {
		return nil, errf(17, "SCRAM: the client-first message must start with 'n,,' (no channel binding)")
	}
	attrs := scramAttrs(bare)
	name, nonce := scramUnescape(attrs["n"]), attrs["r"]
	if name == "" || nonce == "" {
		return nil, errf(17, "SCRAM: the client-first message lacks n= or r=")
	}
	s.mu.Lock()
	u := s.users[userKey(db, name)]
	s.mu.Unlock()
	var creds *scramCreds
	if u != nil {
		creds = u.creds[mech]
	}
	salt, iter := nonceBytes()[:scramSaltLen-4], scramIterSH256
	if creds != nil {
		salt, iter = creds.salt, creds.iter
	}
	// an unknown user gets a made-up salt and fails after the proof, as
	// MongoDB does: the reply never tells whether the user exists
	conv := &scramConv{mech: scramMech(mech), db: db, user: name, creds: creds, clientFirst: bare}
	conv.nonce = nonce + base64.StdEncoding.EncodeToString(nonceBytes())
	conv.serverFirst = "r=" + conv.nonce + ",s=" + base64.StdEncoding.EncodeToString(salt) + ",i=" + itoa(int64(iter))
	c.sasl = conv
	c.saslSkipEmpty = skipEmptyExchange(cmd)
	return bson.D{
		{Key: "conversationId", Value: int32(1)},
		{Key: "done", Value: false},
		{Key: "payload", Value: bson.Binary{Data: []byte(conv.serverFirst)}},
	}, nil
}

func nonceBytes() []byte {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return b
}

func skipEmptyExchange(cmd bson.D) bool {
	ov, _ := lookupKey(cmd, "options")
	o, _ := ov.(bson.D)
	v, _ := lookupKey(o, "skipEmptyExchange")
	return asBool(v)
}

// cmdSaslContinue verifies the client's proof and answers the server
// signature; the connection is then authenticated.
func (s *Server) cmdSaslContinue(x *cmdCtx) (bson.D, error) {
	conv := x.c.sasl
	if conv == nil {
		return nil, errf(17, "No SASL session state found")
	}
	reply := func(payload string, done bool) bson.D {
		return bson.D{
			{Key: "conversationId", Value: int32(1)},
			{Key: "done", Value: done},
			{Key: "payload", Value: bson.Binary{Data: []byte(payload)}},
		}
	}
	if conv.done { // the empty last exchange
		x.c.sasl = nil
		return reply("", true), nil
	}
	pv, _ := x.get("payload")
	payload, _ := pv.(bson.Binary)
	final := string(payload.Data)
	withoutProof, proofB64, ok := strings.Cut(final, ",p=")
	attrs := scramAttrs(withoutProof)
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if !ok || err != nil || attrs["r"] != conv.nonce || attrs["c"] != "biws" {
		x.c.sasl = nil
		return nil, errf(18, "Authentication failed.")
	}
	h := conv.mech.hash()
	authMessage := conv.clientFirst + "," + conv.serverFirst + "," + withoutProof
	if conv.creds == nil || !conv.creds.verify(h, authMessage, proof) {
		x.c.sasl = nil
		s.log.Debug().Str("user", conv.user).Str("db", conv.db).Msg("authentication failed")
		return nil, errf(18, "Authentication failed.")
	}
	x.c.user = userKey(conv.db, conv.user)
	serverSig := hmacSum(h, conv.creds.serverKey, authMessage)
	v := "v=" + base64.StdEncoding.EncodeToString(serverSig)
	if x.c.saslSkipEmpty {
		x.c.sasl = nil
		return reply(v, true), nil
	}
	conv.done = true
	return reply(v, false), nil
}

// verify checks a client proof: H(proof XOR HMAC(StoredKey, AuthMessage))
// must be StoredKey.
func (c *scramCreds) verify(h func() hash.Hash, authMessage string, proof []byte) bool {
	sig := hmacSum(h, c.storedKey, authMessage)
	if len(proof) != len(sig) {
		return false
	}
	clientKey := make([]byte, len(sig))
	for i := range sig {
		clientKey[i] = proof[i] ^ sig[i]
	}
	sum := h()
	sum.Write(clientKey)
	return subtle.ConstantTimeCompare(sum.Sum(nil), c.storedKey) == 1
}

func (s *Server) cmdLogout(x *cmdCtx) (bson.D, error) {
	x.c.user, x.c.sasl = "", nil
	return bson.D{}, nil
}

// scramAttrs splits "a=1,b=2" into its attributes.
func scramAttrs(msg string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(msg, ",") {
		if k, v, ok := strings.Cut(part, "="); ok && len(k) == 1 {
			out[k] = v
		}
	}
	return out
}

// scramUnescape decodes a SCRAM username ("=2C" is ',', "=3D" is '=').
func scramUnescape(s string) string {
	return strings.NewReplacer("=2C", ",", "=3D", "=").Replace(s)
}

// handshakeAuth answers hello's speculativeAuthenticate (a saslStart) and
// lists saslSupportedMechs for "db.user".
func (s *Server) handshakeAuth(x *cmdCtx) bson.D {
	var out bson.D
	if v, ok := x.get("saslSupportedMechs"); ok {
		name, _ := v.(string)
		db, u, _ := strings.Cut(name, ".")
		s.mu.Lock()
		usr := s.users[userKey(db, u)]
		mechs := bson.A{}
		if usr != nil {
			for _, m := range []string{mechSHA1, mechSHA256} {
				if usr.creds[m] != nil {
					mechs = append(mechs, m)
				}
			}
		}
		s.mu.Unlock()
		if usr != nil {
			out = append(out, bson.E{Key: "saslSupportedMechs", Value: mechs})
		}
	}
	if v, ok := x.get("speculativeAuthenticate"); ok {
		d, _ := v.(bson.D)
		mv, _ := lookupKey(d, "mechanism")
		if m, _ := mv.(string); slices.Contains([]string{mechSHA1, mechSHA256}, m) {
			pv, _ := lookupKey(d, "payload")
			dbv, _ := lookupKey(d, "db")
			db, _ := dbv.(string)
			if db == "" {
				db = "admin"
			}
			if r, err := s.saslStart(x.c, db, mv, pv, d); err == nil {
				out = append(out, bson.E{Key: "speculativeAuthenticate", Value: r})
			}
		}
	}
	return out
}
