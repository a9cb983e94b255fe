package config

// maxTypoEdits is how many single-character edits (insert, delete,
// substitute, swap two neighbours) separate a misspelt name from the known
// one it is taken for. Further away, a name is not taken for a typo.
const maxTypoEdits = 2

// nearest returns the candidate closest to name by editDistance, when it is
// at most maxTypoEdits away (for a candidate under 6 characters, one edit
// per 3 characters: "bogus" is no typo of "bus"); the first of equally close
// ones.
func nearest(name string, candidates []string) (string, bool) {
	best, bestDist := "", maxTypoEdits+1
	for _, c := range candidates {
		limit := min(bestDist, min(maxTypoEdits, len(c)/3)+1)
		if d := editDistance(name, c, limit); d < limit {
			best, bestDist = c, d
		}
	}
	return best, best != ""
}

// editDistance is the optimal string alignment distance between a and b
// (Levenshtein plus the swap of two adjacent characters), in bytes. It
// returns limit early when the distance is at least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	// Three rows of the dynamic-programming table: i-2, i-1 and i.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit)
}
