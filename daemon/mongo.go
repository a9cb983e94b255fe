package daemon

import (
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/projectwatcher/watcher/logging"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// connectMongo returns a client for uri (the driver connects lazily),
// telling h when MongoDB answers. Its
// error names the URI redacted (logging.RedactURI) and never carries the
// credentials: the driver's parse errors can quote parts of them.
func connectMongo(uri string, h *mongoHealth) (*mongo.Client, error) {
	c, err := mongo.Connect(h.monitor(options.Client().ApplyURI(uri)))
	if err != nil {
		// Not wrapped: the driver's error would still print the secret.
		return nil, errors.New("mongodb client for " + logging.RedactURI(uri) + ": " + scrubURIError(err.Error(), uri))
	}
	return c, nil
}

// badEscape is the driver's complaint about a bad percent escape in the
// credentials, quoting the escape (a piece of the secret).
var badEscape = regexp.MustCompile(`(invalid (?:password|username): invalid URL escape) "[^"]*"`)

// scrubURIError removes from a driver error message about uri every piece
// of the URI's credentials: the quoted bad escape, and the user info, the
// password and its unescaped form wherever they appear.
func scrubURIError(msg, uri string) string {
	msg = badEscape.ReplaceAllString(msg, `$1 (percent-encode "%" in credentials as %25)`)
	for _, secret := range credentialPieces(uri) {
		msg = strings.ReplaceAll(msg, secret, logging.Redacted)
	}
	return msg
}

// credentialPieces are the user info of uri, its password, and the
// password unescaped. The user info ends at the last "@", as for
// logging.RedactURI (conservative: an unescaped "@" in a password must not
// leak). Pieces under four characters are left out: they cannot be told
// apart from the rest of a message, and replacing them would garble it.
func credentialPieces(uri string) []string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return nil
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return nil
	}
	userinfo := rest[:at]
	candidates := []string{userinfo}
	if _, password, ok := strings.Cut(userinfo, ":"); ok {
		candidates = append(candidates, password)
		if plain, err := url.PathUnescape(password); err == nil {
			candidates = append(candidates, plain)
		}
	}
	var pieces []string
	for _, c := range candidates {
		if len(c) >= 4 {
			pieces = append(pieces, c)
		}
	}
	return pieces
}
