// Package archtest checks the shape of the repository that
// docs/ARCHITECTURE.md describes: which package may import which, and how
// long a file or a function may grow. It has tests only.
package archtest
