package logging

import (
	"strings"
)

// Redacted replaces a secret in logged text.
const Redacted = "xxxxx"

// unparseable is what RedactURI returns for a string it cannot take apart
// safely: nothing of it is shown.
const unparseable = "[redacted: not a mongodb:// or mongodb+srv:// URI]"

// secretOptions are URI options whose value is a secret (lower case).
var secretOptions = map[string]bool{
	"tlscertificatekeyfilepassword":   true,
	"sslclientcertificatekeypassword": true,
}

// RedactURI returns a MongoDB connection string fit for logs: the password
// of the credentials is replaced by Redacted (a user without a password is
// kept), as are secret options (tlsCertificateKeyFilePassword, the
// AWS_SESSION_TOKEN of authMechanismProperties). It is conservative: the
// credentials end at the LAST "@" (an unescaped "@", "/" or "?" in a
// password must not leak); when what precedes it is not plainly
// "user[:password]", all of it is redacted; a string that is not a
// mongodb:// or mongodb+srv:// URI is not shown at all.
func RedactURI(uri string) string {
	scheme, rest, ok := splitScheme(uri)
	if !ok {
		return unparseable
	}
	creds, hostsAndRest := "", rest
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		creds, hostsAndRest = redactCredentials(rest[:at])+"@", rest[at+1:]
	}
	return scheme + creds + redactOptions(hostsAndRest)
}

func splitScheme(uri string) (scheme, rest string, ok bool) {
	for _, s := range []string{"mongodb://", "mongodb+srv://"} {
		if len(uri) >= len(s) && strings.EqualFold(uri[:len(s)], s) {
			return uri[:len(s)], uri[len(s):], true
		}
	}
	return "", "", false
}

// redactCredentials redacts "user:password" to "user:xxxxx". Anything that
// is not a plain userinfo (it holds "/", "?", "#" or a control character:
// the "@" may belong to a path or an option, or the password is unescaped)
// is redacted whole.
func redactCredentials(userinfo string) string {
	if strings.ContainsAny(userinfo, "/?#") || hasControl(userinfo) {
		return Redacted
	}
	user, _, hasPassword := strings.Cut(userinfo, ":")
	if !hasPassword {
		return userinfo // a user without a password (X.509, Kerberos): no secret
	}
	return user + ":" + Redacted
}

// redactOptions redacts the values of secret options in "hosts/db?options".
func redactOptions(s string) string {
	base, query, ok := strings.Cut(s, "?")
	if !ok {
		return s
	}
	parts := strings.Split(query, "&")
	for i, part := range parts {
		key, value, hasValue := strings.Cut(part, "=")
		if !hasValue {
			continue
		}
		switch k := strings.ToLower(key); {
		case secretOptions[k]:
			parts[i] = key + "=" + Redacted
		case k == "authmechanismproperties":
			parts[i] = key + "=" + redactMechanismProperties(value)
		}
	}
	return base + "?" + strings.Join(parts, "&")
}

// redactMechanismProperties redacts the token in "SERVICE_NAME:x,AWS_SESSION_TOKEN:secret".
func redactMechanismProperties(value string) string {
	props := strings.Split(value, ",")
	for i, prop := range props {
		name, _, ok := strings.Cut(prop, ":")
		upper := strings.ToUpper(name)
		if !ok {
			// %2C / %3A escaped forms: cannot tell where a token ends.
			if strings.Contains(upper, "TOKEN") || strings.Contains(upper, "SECRET") || strings.Contains(upper, "PASSWORD") {
				props[i] = Redacted
			}
			continue
		}
		if strings.Contains(upper, "TOKEN") || strings.Contains(upper, "SECRET") || strings.Contains(upper, "PASSWORD") {
			props[i] = name + ":" + Redacted
		}
	}
	return strings.Join(props, ",")
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
