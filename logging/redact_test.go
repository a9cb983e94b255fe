package logging

import (
	"strings"
	"testing"
)

func TestRedactURI(t *testing.T) {
	const secret = "s3cr3t"
	tests := []struct {
		name, in, want string
	}{
		{"password", "mongodb://alice:s3cr3t@db:27017/app?replicaSet=rs0", "mongodb://alice:xxxxx@db:27017/app?replicaSet=rs0"},
		{"srv", "mongodb+srv://alice:s3cr3t@cluster0.example.net/?retryWrites=true", "mongodb+srv://alice:xxxxx@cluster0.example.net/?retryWrites=true"},
		{"escaped password", "mongodb://alice:s3c%40r3t%2F@db/", "mongodb://alice:xxxxx@db/"},
		{"several hosts", "mongodb://alice:s3cr3t@a:1,b:2,c:3/app?replicaSet=rs0", "mongodb://alice:xxxxx@a:1,b:2,c:3/app?replicaSet=rs0"},
		{"user without password kept", "mongodb://CN=client@db/?authMechanism=MONGODB-X509", "mongodb://CN=client@db/?authMechanism=MONGODB-X509"},
		{"empty password", "mongodb://alice:@db/", "mongodb://alice:xxxxx@db/"},
		{"no credentials unchanged", "mongodb://localhost:27017/?replicaSet=rs0", "mongodb://localhost:27017/?replicaSet=rs0"},
		{"upper-case scheme", "MongoDB://alice:s3cr3t@db/", "MongoDB://alice:xxxxx@db/"},
		{"unescaped @ in password", "mongodb://alice:s3@cr3t@db/app", "mongodb://alice:xxxxx@db/app"},
		{"unescaped / in password", "mongodb://alice:s3/cr3t@db/app", "mongodb://xxxxx@db/app"},
		{"unescaped ? in password", "mongodb://alice:s3?cr3t@db/app", "mongodb://xxxxx@db/app"},
		{"@ in an option is over-redacted", "mongodb://db/app?appName=me@s3cr3t.host", "mongodb://xxxxx@s3cr3t.host"},
		{"tls key password option", "mongodb://db/?tls=true&tlsCertificateKeyFilePassword=s3cr3t", "mongodb://db/?tls=true&tlsCertificateKeyFilePassword=xxxxx"},
		{"aws session token", "mongodb://AKID:s3cr3t@db/?authMechanism=MONGODB-AWS&authMechanismProperties=SERVICE_NAME:x,AWS_SESSION_TOKEN:s3cr3t",
			"mongodb://AKID:xxxxx@db/?authMechanism=MONGODB-AWS&authMechanismProperties=SERVICE_NAME:x,AWS_SESSION_TOKEN:xxxxx"},
		{"escaped aws session token", "mongodb://db/?authMechanismProperties=AWS_SESSION_TOKEN%3As3cr3t", "mongodb://db/?authMechanismProperties=xxxxx"},
		{"control character in credentials", "mongodb://alice\n:s3cr3t@db/", "mongodb://xxxxx@db/"},
		{"other scheme", "http://alice:s3cr3t@db/", unparseable},
		{"no scheme", "alice:s3cr3t@db:27017", unparseable},
		{"scheme only prefix", "mongodb:/alice:s3cr3t@db", unparseable},
		{"empty", "", unparseable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RedactURI(tt.in)
			if got != tt.want {
				t.Errorf("RedactURI(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.Contains(got, secret) && !strings.Contains(tt.want, secret) {
				t.Errorf("RedactURI(%q) leaks the secret: %q", tt.in, got)
			}
		})
	}
}

// FuzzRedactURI: whatever the input, a password placed after "user:" and
// before the last "@" never comes out.
func FuzzRedactURI(f *testing.F) {
	f.Add("alice", "pw", "db:27017/app?x=y")
	f.Add("a/b", "p?w", "h")
	f.Fuzz(func(t *testing.T, user, password, rest string) {
		rest = strings.ReplaceAll(rest, "@", "")
		// What may legitimately come out; the password must be recognizable.
		shown := "mongodb://" + user + ":" + Redacted + "@" + rest + unparseable
		if len(password) < 4 || strings.Contains(shown, password) {
			return // the "secret" must be recognizable to be checked
		}
		in := "mongodb://" + user + ":" + password + "@" + rest
		if got := RedactURI(in); strings.Contains(got, password) {
			t.Fatalf("RedactURI(%q) = %q leaks %q", in, got, password)
		}
	})
}
