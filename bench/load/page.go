package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"time"

	"github.com/vungtrong/vungtrong/pgcluster"
)

// The public code page's phase: the same code lookups at the same rate, once as the JSON
// lookup (GET /api/v1/codes/{code}) and once as the page a QR code opens (GET /v/{code}), on
// one fresh server, in alternating rounds so that the machine's noise falls on both alike.
const (
	phasePage = "page"
	kindJSON  = "code lookup, JSON"
	kindPage  = "code page, HTML"
)

// pageRounds is how many times each of the two is measured, in turn.
const pageRounds = 2

// pageKinds are the JSON lookup and the page, both at the code rate, both asking for gzip as
// a phone's browser does. Codes the page does not show (packing houses' codes) are skipped
// by pageCodes.
func (w *workload) pageKinds(o options, codes []string) []kind {
	get := func(prefix string) func(ctx context.Context, s *server, i int) answer {
		return func(ctx context.Context, s *server, i int) answer {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+prefix+url.PathEscape(codes[i%len(codes)]), nil)
			req.Header.Set("Accept-Encoding", "gzip")
			a, _ := do(req)
			return a
		}
	}
	return []kind{
		{name: kindJSON, api: true, rate: o.codeRate, send: get("/api/v1/codes/")},
		{name: kindPage, api: true, rate: o.codeRate, send: get("/v/")},
	}
}

// pageCodes are the workload's code spellings whose page the server shows, and the size of
// the first page as a phone receives it (gzip).
func pageCodes(ctx context.Context, w *workload, s *server) ([]string, int, error) {
	var codes []string
	size := 0
	for _, c := range w.codes {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/v/"+url.PathEscape(c), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := client.Do(req)
		if err != nil {
			return nil, 0, err
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			codes = append(codes, c)
			if size == 0 {
				size = int(n)
			}
		}
	}
	if len(codes) == 0 {
		return nil, 0, fmt.Errorf("no code of the demo data has a public page")
	}
	return codes, size, nil
}

// runPagePhase measures the JSON lookup and the page in alternating rounds of half the
// phase's duration each, on one fresh server; the first round of each has the full warm-up,
// the others a short one.
func runPagePhase(ctx context.Context, o options, w *workload, cluster *pgcluster.Cluster, dbURL string) (*phaseResult, int, error) {
	s, err := startServer(ctx, o, dbURL, phasePage+"-1")
	if err != nil {
		return nil, 0, err
	}
	defer s.stop()
	codes, size, err := pageCodes(ctx, w, s)
	if err != nil {
		return nil, 0, err
	}
	kinds := w.pageKinds(o, codes)
	d := o.duration / 2
	r := &phaseResult{name: phasePage, servers: 1, duration: d * pageRounds, kinds: kinds, logs: []string{s.logPath}}
	log.Printf("phase %q: 1 server, %d codes with a page (%d bytes gzipped), %d rounds of %s for each of JSON and page", phasePage, len(codes), size, pageRounds, d)
	for round := range pageRounds {
		for k := range kinds {
			ro := o
			if round > 0 {
				ro.warmup = min(o.warmup, 2*time.Second)
			}
			only := make([]kind, len(kinds))
			copy(only, kinds)
			for j := range only {
				if j != k {
					only[j].rate = 0
				}
			}
			records, warm, err := generate(ctx, ro, only, []*server{s}, d, nil)
			if err != nil {
				return nil, 0, err
			}
			r.records = append(r.records, records...)
			r.warm = append(r.warm, warm...)
		}
	}
	if s.exited() {
		return nil, 0, fmt.Errorf("server %s exited during the phase: see %s", s.name, s.logPath)
	}
	return r, size, nil
}

// pageReport prints the page phase and returns its check: the page's p99 within 1.5× the
// JSON lookup's.
func pageReport(w io.Writer, o options, p *phaseResult, size int) check {
	fmt.Fprintf(w, "\n### phase %q: the public code page against the JSON lookup, 1 server, %d alternating rounds of %s each at %.0f/s\n\n",
		p.name, pageRounds, p.duration/pageRounds, o.codeRate)
	fmt.Fprintf(w, "(the two kinds never ran at once: the \"all\" row adds them up)\n\n")
	phaseTable(w, p)
	j, pg := summarize(p.of(kindJSON)), summarize(p.of(kindPage))
	ratio := float64(pg.pct(0.99)) / float64(j.pct(0.99))
	fmt.Fprintf(w, "\npage: %d bytes gzipped; p99 page %s ms / JSON %s ms = %.2f; p50 page %s ms / JSON %s ms = %.2f\n",
		size, ms(pg.pct(0.99)), ms(j.pct(0.99)), ratio, ms(pg.pct(0.5)), ms(j.pct(0.5)), float64(pg.pct(0.5))/float64(j.pct(0.5)))
	ok := ratio <= 1.5 && pg.httpErrs+pg.transport == 0 && j.httpErrs+j.transport == 0
	return check{ok, fmt.Sprintf("%s: public code page p99 %s ms <= 1.5 x JSON lookup p99 %s ms (ratio %.2f), no errors", p.name, ms(pg.pct(0.99)), ms(j.pct(0.99)), ratio)}
}
