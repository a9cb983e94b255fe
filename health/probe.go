package health

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// ProbeURL turns a listen address (http.addr, e.g. ":8080" or
// "0.0.0.0:8080") into a loopback URL for path on this host.
func ProbeURL(addr, path string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("health: bad listen address %q: %w", addr, err)
	}
	if port == "" || port == "0" {
		return "", fmt.Errorf("health: listen address %q has no fixed port to probe", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}

// Probe GETs url and returns nil on a 2xx answer; otherwise an error with
// the status and the start of the body. Bound its time with ctx.
func Probe(ctx context.Context, client *http.Client, url string) error {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health: probe %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health: probe %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return fmt.Errorf("health: probe %s: read body: %w", url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("health: probe %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
