package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

type samples []sample

// parseSamples reads the Prometheus text exposition format (the subset the
// client library writes: no escaped quotes in label values).
func parseSamples(r io.Reader) (samples, error) {
	var out samples
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := sample{labels: map[string]string{}}
		rest := line
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				return nil, fmt.Errorf("metrics line %q: unbalanced braces", line)
			}
			s.name = line[:i]
			for _, kv := range splitLabels(line[i+1 : j]) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return nil, fmt.Errorf("metrics line %q: label %q", line, kv)
				}
				s.labels[k] = strings.Trim(v, `"`)
			}
			rest = strings.TrimSpace(line[j+1:])
		} else {
			name, r, _ := strings.Cut(line, " ")
			s.name, rest = name, r
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return nil, fmt.Errorf("metrics line %q: no value", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		s.value = v
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	return out, nil
}

func splitLabels(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// value sums the samples named name whose labels match the given
// name/value pairs.
func (ss samples) value(name string, kv ...string) float64 {
	total := 0.0
	for _, s := range ss {
		if s.name == name && s.matches(kv) {
			total += s.value
		}
	}
	return total
}

func (s sample) matches(kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if s.labels[kv[i]] != kv[i+1] {
			return false
		}
	}
	return true
}

// quantile estimates the q-quantile of histogram name (summed over the
// series matching kv) the way PromQL's histogram_quantile does: linear
// interpolation inside the bucket holding the rank.
func (ss samples) quantile(q float64, name string, kv ...string) float64 {
	bounds := map[float64]float64{}
	for _, s := range ss {
		if s.name != name+"_bucket" || !s.matches(kv) {
			continue
		}
		le, err := strconv.ParseFloat(s.labels["le"], 64)
		if err != nil {
			continue
		}
		bounds[le] += s.value
	}
	les := make([]float64, 0, len(bounds))
	for le := range bounds {
		les = append(les, le)
	}
	sort.Float64s(les)
	if len(les) == 0 || bounds[les[len(les)-1]] == 0 {
		return math.NaN()
	}
	total := bounds[les[len(les)-1]]
	rank := q * total
	prevLe, prevCount := 0.0, 0.0
	for _, le := range les {
		c := bounds[le]
		if c >= rank {
			if math.IsInf(le, 1) {
				return prevLe // beyond the last finite bucket
			}
			if c == prevCount {
				return le
			}
			return prevLe + (le-prevLe)*(rank-prevCount)/(c-prevCount)
		}
		prevLe, prevCount = le, c
	}
	return les[len(les)-1]
}

// dropLargest returns a copy of ss without the largest observation of
// histogram name in the series matching kv: one less in the lowest bucket
// that holds the whole series and in every bucket above it, and in the
// count. (S6 leaves the giant cleanup's own lag out this way; it is the
// largest, as every event behind it was made later.)
func (ss samples) dropLargest(name string, kv ...string) samples {
	out := make(samples, len(ss))
	copy(out, ss)
	total := math.Inf(-1)
	lowest := math.Inf(1)
	for _, s := range out {
		if s.name == name+"_bucket" && s.matches(kv) && s.labels["le"] == "+Inf" {
			total = s.value
		}
	}
	for _, s := range out {
		if s.name != name+"_bucket" || !s.matches(kv) || s.value != total {
			continue
		}
		if le, err := strconv.ParseFloat(s.labels["le"], 64); err == nil && le < lowest {
			lowest = le
		}
	}
	if total <= 0 {
		return out
	}
	for i, s := range out {
		if !s.matches(kv) {
			continue
		}
		le, err := strconv.ParseFloat(s.labels["le"], 64)
		if (s.name == name+"_bucket" && err == nil && le >= lowest) || s.name == name+"_count" {
			out[i].value--
		}
	}
	return out
}
