package tenant

import (
	"cmp"
	"slices"
	"strings"
)

const maxSuggestions = 5

// suggest returns up to maxSuggestions names close to query: the same ignoring case, containing
// it (or contained in it), or within a small edit distance; closest first.
func suggest(query string, names []string) []string {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil
	}
	limit := max(2, len([]rune(q))/3)
	type scored struct {
		name string
		dist int
	}
	var found []scored
	seen := map[string]bool{}
	for _, name := range names {
		n := strings.ToLower(name)
		if name == "" || seen[name] {
			continue
		}
		d := editDistance(q, n)
		switch {
		case d <= limit:
		case len(q) >= 3 && (strings.Contains(n, q) || strings.Contains(q, n) && len(n) >= 3):
			d = limit + 1 + abs(len(n)-len(q))
		default:
			continue
		}
		seen[name] = true
		found = append(found, scored{name, d})
	}
	slices.SortFunc(found, func(a, b scored) int { return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.name, b.name)) })
	out := make([]string, 0, min(len(found), maxSuggestions))
	for _, s := range found[:min(len(found), maxSuggestions)] {
		out = append(out, s.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
