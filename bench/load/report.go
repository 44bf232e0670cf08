package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// phaseResult is what one phase measured.
type phaseResult struct {
	name     string
	servers  int
	duration time.Duration
	kinds    []kind
	records  []record
	warm     []record     // the warm-up's requests, sent to the fresh servers
	samples  samples      // taken while the load was measured
	outage   *outageTimes // nil unless the database was restarted
	logs     []string     // the servers' log files
}

// of returns the records of the named kind.
func (p *phaseResult) of(name string) []record {
	var out []record
	for _, r := range p.records {
		if p.kinds[r.kind].name == name {
			out = append(out, r)
		}
	}
	return out
}

// stats summarise a set of requests.
type stats struct {
	n         int
	ok        int
	httpErrs  int // answered with a status other than 2xx and 304
	transport int // no answer: refused, reset, hung
	latencies []time.Duration
}

func summarize(rs []record) stats {
	s := stats{n: len(rs)}
	for _, r := range rs {
		switch {
		case r.ok():
			s.ok++
		case r.err != nil:
			s.transport++
		default:
			s.httpErrs++
		}
		s.latencies = append(s.latencies, r.latency())
	}
	slices.Sort(s.latencies)
	return s
}

// pct returns the p-quantile of the latencies (0 when there are none).
func (s stats) pct(p float64) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(s.latencies)))) - 1
	return s.latencies[max(0, min(i, len(s.latencies)-1))]
}

func (s stats) max() time.Duration { return s.pct(1) }

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64)
}

// table prints a markdown table with its columns padded, so that it reads as well in a
// terminal as in a note. Columns after the first are right-aligned.
func table(w io.Writer, header []string, rows [][]string) {
	width := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(row []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(" " + c + pad + " |")
			} else {
				b.WriteString(" " + pad + c + " |")
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(header)
	sep := make([]string, len(header))
	for i := range header {
		sep[i] = strings.Repeat("-", width[i])
		if i > 0 {
			sep[i] = sep[i][:width[i]-1] + ":"
		}
	}
	line(sep)
	for _, row := range rows {
		line(row)
	}
}

// check is one figure against its target.
type check struct {
	ok   bool
	text string
}

// report prints every phase's tables, the outage's timeline and the targets.
func report(w io.Writer, o options, wl *workload, results []*phaseResult, page *phaseResult, pageSize int) {
	var checks []check
	fmt.Fprintf(w, "\n## bench/load: mixed open-loop load on the Đắk Lắk demo\n\n")
	fmt.Fprintf(w, "server %s; http.request_timeout %s; %d CPUs shared by PostgreSQL, the servers and this client (GOMAXPROCS 1)\n", o.binary, o.requestTimeout, runtime.NumCPU())
	fmt.Fprintf(w, "workload: %d plots, %d code spellings, %d cached tiles (z12-16, half revalidated with If-None-Match), %d uncached tiles (each asked once per server process); each phase on fresh servers after %s of unmeasured load\n",
		len(wl.plots), len(wl.codes), len(wl.hot), len(wl.cold), o.warmup)
	fmt.Fprintf(w, "latency is from the time each request was due (open loop), in ms; errors are answers other than 2xx/304; transport errors are requests without an answer\n")
	if wl.coldWrapped.Load() {
		fmt.Fprintf(w, "note: the uncached tiles ran out during a phase and started over: some of them were cached\n")
	}

	var headline [][]string
	for _, p := range results {
		fmt.Fprintf(w, "\n### phase %q: %d server(s), %s measured\n\n", p.name, p.servers, p.duration)
		phaseTable(w, p)
		code := summarize(p.of(kindCode))
		ratio := float64(code.pct(0.99)) / float64(o.codeTarget)
		headline = append(headline, []string{p.name, strconv.Itoa(p.servers), ms(code.pct(0.5)), ms(code.pct(0.99)), ms(o.codeTarget), fmt.Sprintf("%.2f", ratio)})
		if p.outage == nil {
			checks = append(checks, check{code.pct(0.99) <= o.codeTarget,
				fmt.Sprintf("%s: code lookup p99 %s ms <= %s ms (ratio %.2f)", p.name, ms(code.pct(0.99)), ms(o.codeTarget), ratio)})
		} else {
			checks = append(checks, outageReport(w, o, p)...)
		}
		var logs []string
		for _, l := range p.logs {
			logs = append(logs, fmt.Sprintf("%s (%d lines)", l, logLines(l)))
		}
		fmt.Fprintf(w, "\nserver logs: %s\n", strings.Join(logs, ", "))
	}

	if page != nil {
		checks = append(checks, pageReport(w, o, page, pageSize))
		fmt.Fprintf(w, "\nserver log: %s (%d lines)\n", page.logs[0], logLines(page.logs[0]))
	}

	if len(headline) > 0 {
		fmt.Fprintf(w, "\n### headline: code lookup p99 against the target\n\n")
		table(w, []string{"phase", "servers", "p50 ms", "p99 ms", "target ms", "p99/target"}, headline)
	}

	fmt.Fprintf(w, "\n### targets\n\n")
	for _, c := range checks {
		mark := "PASS"
		if !c.ok {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "- %s  %s\n", mark, c.text)
	}
}

// phaseTable prints one row per kind of request, a total, and what the errors were.
func phaseTable(w io.Writer, p *phaseResult) {
	var rows [][]string
	var target float64
	row := func(name string, rate float64, s stats) []string {
		return []string{name, fmt.Sprintf("%.0f", rate), strconv.Itoa(s.n), fmt.Sprintf("%.1f", float64(s.ok)/p.duration.Seconds()),
			strconv.Itoa(s.httpErrs), strconv.Itoa(s.transport), ms(s.pct(0.5)), ms(s.pct(0.9)), ms(s.pct(0.99)), ms(s.max())}
	}
	for _, k := range p.kinds {
		if k.rate <= 0 {
			continue
		}
		rows = append(rows, row(k.name, k.rate, summarize(p.of(k.name))))
		target += k.rate
	}
	rows = append(rows, row("all", target, summarize(p.records)))
	table(w, []string{"request", "target/s", "sent", "ok/s", "errors", "transport errors", "p50", "p90", "p99", "max"}, rows)
	if causes := errorCauses(p.kinds, p.records); causes != "" {
		fmt.Fprintf(w, "\nerrors: %s\n", causes)
	}
	if u := p.samples.last.since(p.samples.first); u.machine >= 0 {
		fmt.Fprintf(w, "\nCPU, in %% of one core: servers %s, postgres %s, this client %s; the machine's %d cores %s busy (whoever used them)\n",
			percent(u.servers), percent(u.postgres), percent(u.client), runtime.NumCPU(), percent(u.machine))
	}
	if len(p.warm) > 0 {
		s := summarize(p.warm)
		fmt.Fprintf(w, "\nwarm-up, not in the table (the same load on the servers fresh from their start): %d requests, %d errors, %d transport errors, p50 %s, p99 %s, max %s ms\n",
			s.n, s.httpErrs, s.transport, ms(s.pct(0.5)), ms(s.pct(0.99)), ms(s.max()))
	}
}

// errorCauses counts the failed requests by kind and status or transport error.
func errorCauses(kinds []kind, rs []record) string {
	counts := map[string]int{}
	for _, r := range rs {
		if r.ok() {
			continue
		}
		what := "status " + strconv.Itoa(r.status)
		if r.err != nil {
			what = r.err.Error()
		}
		counts[kinds[r.kind].name+": "+what]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s x%d", k, counts[k]))
	}
	return strings.Join(parts, "; ")
}

// outageReport prints what happened around the database restart and returns its checks.
func outageReport(w io.Writer, o options, p *phaseResult) []check {
	t := p.outage
	fmt.Fprintf(w, "\ndatabase restart, from the start of the measured load: stop called at %s s, stopped at %s s; start called at %s s, accepting connections at %s s (down %s s)\n",
		secs(t.stopCalled), secs(t.stopped), secs(t.startCalled), secs(t.up), secs(t.up-t.stopCalled))

	// The API's requests by the stage of the restart at which they were due.
	fmt.Fprintf(w, "\nAPI requests (code lookups, plot pages, edits) by when they were due:\n\n")
	var rows [][]string
	// The latencies of the API's 503s while the database was stopping, down and starting.
	var stopping503, down503, starting503 stats
	for _, st := range []struct {
		name     string
		from, to time.Duration
		lat503   *stats
	}{
		{"before", 0, t.stopCalled, nil},
		{"stopping (pg_ctl stop -m fast)", t.stopCalled, t.stopped, &stopping503},
		{"down", t.stopped, t.startCalled, &down503},
		{"starting (pg_ctl start)", t.startCalled, t.up, &starting503},
		{"up to +5 s", t.up, t.up + 5*time.Second, nil},
		{"after +5 s", t.up + 5*time.Second, p.duration, nil},
	} {
		var rs, failed503 []record
		for _, r := range p.records {
			if p.kinds[r.kind].api && r.due >= st.from && r.due < st.to {
				rs = append(rs, r)
				if r.err == nil && r.status == 503 {
					failed503 = append(failed503, r)
				}
			}
		}
		if st.lat503 != nil {
			*st.lat503 = summarize(failed503)
		}
		s := summarize(rs)
		unavailable, withRetry := count503(rs)
		rows = append(rows, []string{st.name, secs(st.from) + "-" + secs(min(st.to, p.duration)), strconv.Itoa(s.n), strconv.Itoa(s.ok),
			strconv.Itoa(unavailable), strconv.Itoa(withRetry), strconv.Itoa(s.httpErrs - unavailable), strconv.Itoa(s.transport),
			ms(s.pct(0.5)), ms(s.pct(0.99)), ms(s.max())})
	}
	table(w, []string{"stage", "due s", "sent", "ok", "503", "503 with Retry-After", "other errors", "transport errors", "p50", "p99", "max"}, rows)

	// Every kind of request due while the database was away.
	fmt.Fprintf(w, "\nrequests due while the database was stopping, down or starting (%s-%s s):\n\n", secs(t.stopCalled), secs(t.up))
	rows = rows[:0]
	var apiN, apiFailed, api503 int
	var hotN, hotOK int
	for _, k := range p.kinds {
		if k.rate <= 0 {
			continue
		}
		var during, failed503 []record
		for _, r := range p.of(k.name) {
			if r.due >= t.stopCalled && r.due < t.up {
				during = append(during, r)
				if r.err == nil && r.status == 503 {
					failed503 = append(failed503, r)
				}
			}
		}
		s, l := summarize(during), summarize(failed503)
		unavailable, withRetry := count503(during)
		rows = append(rows, []string{k.name, strconv.Itoa(s.n), strconv.Itoa(s.ok), strconv.Itoa(unavailable), strconv.Itoa(withRetry),
			strconv.Itoa(s.httpErrs - unavailable), strconv.Itoa(s.transport), ms(l.pct(0.5)), ms(l.pct(0.99)), ms(l.max()), ms(s.max())})
		switch {
		case k.api:
			apiN += s.n
			apiFailed += s.n - s.ok
			api503 += withRetry
		case k.name == kindTileHot:
			hotN, hotOK = s.n, s.ok
		}
	}
	table(w, []string{"request", "sent", "ok", "503", "503 with Retry-After", "other errors", "transport errors", "503 p50", "503 p99", "503 max", "max (all)"}, rows)
	var down []record
	for _, r := range p.records {
		if r.due >= t.stopCalled && r.due < t.up {
			down = append(down, r)
		}
	}
	if causes := errorCauses(p.kinds, down); causes != "" {
		fmt.Fprintf(w, "\nerrors: %s\n", causes)
	}

	// Per second, by the time each answer came: the throughput as the clients saw it.
	type bucket struct {
		apiOK, tileOK, unavailable, other int
		maxLatency                        time.Duration
	}
	var buckets []bucket
	for _, r := range p.records {
		i := int(r.done / time.Second)
		for len(buckets) <= i {
			buckets = append(buckets, bucket{})
		}
		b := &buckets[i]
		switch {
		case r.ok() && p.kinds[r.kind].api:
			b.apiOK++
		case r.ok():
			b.tileOK++
		case r.err == nil && r.status == 503:
			b.unavailable++
		default:
			b.other++
		}
		b.maxLatency = max(b.maxLatency, r.latency())
	}
	fmt.Fprintf(w, "\nper second, by the time the answers came (ok = 2xx/304; max latency of the answers that came in that second; the servers' database connections at its end; the machine's busy share, whoever used it):\n\n")
	rows = rows[:0]
	for i, b := range buckets {
		var event []string
		for _, e := range []struct {
			at   time.Duration
			what string
		}{{t.stopCalled, "stop called"}, {t.stopped, "stopped"}, {t.startCalled, "start called"}, {t.up, "up"}} {
			if int(e.at/time.Second) == i {
				event = append(event, fmt.Sprintf("%s at %s s", e.what, secs(e.at)))
			}
		}
		if len(event) == 0 && time.Duration(i)*time.Second > t.stopped && time.Duration(i)*time.Second < t.up {
			event = append(event, "down")
		}
		sample := []string{"", ""}
		if i < len(p.samples.seconds) {
			sec := p.samples.seconds[i]
			sample = []string{"-", percent(sec.machine)}
			if sec.conns >= 0 {
				sample[0] = strconv.Itoa(sec.conns)
			}
		}
		rows = append(rows, append([]string{fmt.Sprintf("%d-%d", i, i+1), strconv.Itoa(b.apiOK), strconv.Itoa(b.tileOK),
			strconv.Itoa(b.unavailable), strconv.Itoa(b.other), ms(b.maxLatency)}, append(sample, strings.Join(event, ", "))...))
	}
	table(w, []string{"second", "ok API", "ok tiles", "503", "other errors", "max latency", "db conns", "machine busy", "database"}, rows)

	// Recovery: from the database's return, the first one-second window (in steps of 100 ms)
	// in which the successful answers reach 95% of their rate before the outage, and the
	// first from which every later window does.
	var before int
	for _, r := range p.records {
		if r.ok() && r.done < t.stopCalled {
			before++
		}
	}
	normal := float64(before) / t.stopCalled.Seconds()
	// A phase whose servers were already failing before the outage has no normal to return
	// to: compare with the load sent.
	var offered float64
	for _, k := range p.kinds {
		offered += k.rate
	}
	healthy := normal >= 0.95*offered
	first, stays := time.Duration(-1), time.Duration(-1)
	for at := t.up; at+time.Second <= p.duration; at += 100 * time.Millisecond {
		n := 0
		for _, r := range p.records {
			if r.ok() && r.done >= at && r.done < at+time.Second {
				n++
			}
		}
		switch {
		case float64(n) < 0.95*normal:
			stays = -1
		case stays < 0:
			stays = at - t.up
		}
		if first < 0 && stays >= 0 {
			first = stays
		}
	}
	fmt.Fprintf(w, "\nsuccessful answers before the outage: %.1f/s (of %.0f/s sent). After the database was up, the first 1-second window with at least 95%% of that starts %s s later; every window from %s s later on has.\n",
		normal, offered, recoveredText(first), recoveredText(stays))
	if !healthy {
		fmt.Fprintf(w, "the servers were failing before the outage (less than 95%% of the requests succeeded): the recovery is not measured against a normal state\n")
	}

	all := summarize(p.records)
	var late int
	for _, r := range p.records {
		if r.latency() > o.requestTimeout {
			late++
		}
	}
	return []check{
		{all.max() <= o.requestTimeout, fmt.Sprintf("%s: longest request %s ms <= the request timeout %s ms (ratio %.2f; %d requests took longer)",
			p.name, ms(all.max()), ms(o.requestTimeout), float64(all.max())/float64(o.requestTimeout), late)},
		{apiFailed == api503 && apiFailed > 0, fmt.Sprintf("%s: API requests due while the database was away: %d of %d failed, %d of them with 503 and Retry-After",
			p.name, apiFailed, apiN, api503)},
		{down503.n > 0 && down503.pct(0.99) <= o.fast503, fmt.Sprintf("%s: the API's 503s while the database was down came quickly: p50 %s, p99 %s, max %s ms (p99 <= %s ms); while it was stopping p99 %s, max %s ms; starting p99 %s, max %s ms",
			p.name, ms(down503.pct(0.5)), ms(down503.pct(0.99)), ms(down503.max()), ms(o.fast503),
			ms(stopping503.pct(0.99)), ms(stopping503.max()), ms(starting503.pct(0.99)), ms(starting503.max()))},
		{hotN > 0 && hotOK == hotN, fmt.Sprintf("%s: cached tiles while the database was away: %d of %d answered 200/304", p.name, hotOK, hotN)},
		{healthy && first >= 0 && first <= o.recoveryTarget, fmt.Sprintf("%s: throughput back to 95%% of before (%.0f/s of %.0f/s sent) %s s after the database's return (target <= %s s; for good from %s s)",
			p.name, normal, offered, recoveredText(first), secs(o.recoveryTarget), recoveredText(stays))},
	}
}

// count503 counts the 503 answers among rs, and those of them with Retry-After.
func count503(rs []record) (unavailable, withRetry int) {
	for _, r := range rs {
		if r.err == nil && r.status == 503 {
			unavailable++
			if r.retryAfter {
				withRetry++
			}
		}
	}
	return unavailable, withRetry
}

func recoveredText(d time.Duration) string {
	if d < 0 {
		return "never (within the phase)"
	}
	return secs(d)
}

// logLines counts the lines of a server log, for the report's pointer to it.
func logLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

// writeRecords writes every request of every phase to a CSV file, those of the warm-up (due
// before 0) included.
func writeRecords(path string, results []*phaseResult) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"phase", "kind", "server", "due_ms", "latency_ms", "status", "error"})
	for _, p := range results {
		for _, r := range append(p.warm, p.records...) {
			var e string
			if r.err != nil {
				e = r.err.Error()
			}
			_ = w.Write([]string{p.name, p.kinds[r.kind].name, strconv.Itoa(r.server + 1), ms(r.due), ms(r.latency()), strconv.Itoa(r.status), e})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// percent formats a share as a whole percentage; a negative one is not known.
func percent(f float64) string {
	if f < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}
