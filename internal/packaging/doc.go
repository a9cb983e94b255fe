// Package packaging holds only tests: they parse the repository's Dockerfile
// (with BuildKit's own parser) and docker-compose.yml (with compose-go's
// loader) and check what the image and the local stack rely on, since no
// Docker engine runs where the tests do.
package packaging
