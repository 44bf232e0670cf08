package registry

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSeasons(t *testing.T) {
	coffee, durian := []int{10, 11, 12, 1, 2}, []int{4, 5, 6, 7, 8, 9}
	for _, tt := range []struct {
		months []int
		d      string
		season int
	}{
		{coffee, "2026-11-20", 2026}, {coffee, "2027-01-15", 2026}, {coffee, "2027-02-28", 2026}, {coffee, "2027-06-01", 2027},
		{durian, "2026-06-01", 2026}, {durian, "2026-01-01", 2026}, {nil, "2026-03-03", 2026},
	} {
		if got := SeasonOf(tt.months, day(tt.d)); got != tt.season {
			t.Errorf("SeasonOf(%v, %s) = %d, want %d", tt.months, tt.d, got, tt.season)
		}
	}
	if !InSeason(coffee, day("2026-12-01"), day("2027-01-10")) || InSeason(coffee, day("2026-09-20"), day("2026-10-10")) ||
		!InSeason(nil, day("2026-03-01"), day("2026-03-02")) || InSeason(durian, day("2026-03-30"), day("2026-04-02")) {
		t.Error("InSeason is wrong")
	}
}

func TestCodeInactiveDuring(t *testing.T) {
	from := day("2024-03-15")
	h := CodeHistory{Code: "VN-DLOR-0321", Current: CodeActive, ValidFrom: &from, Events: []CodeEvent{
		{At: day("2024-03-15").Add(9 * time.Hour), To: CodeActive},
		{At: day("2026-11-02").Add(10 * time.Hour), From: CodeActive, To: CodeSuspended, Reason: ReasonQuarantinePest},
		{At: day("2026-11-20").Add(8 * time.Hour), From: CodeSuspended, To: CodeActive},
	}}
	for _, tt := range []struct {
		from, to string
		status   string
	}{
		{"2026-10-01", "2026-10-30", ""},
		{"2026-10-25", "2026-11-02", CodeSuspended}, // the suspension starts on the last day
		{"2026-11-05", "2026-11-06", CodeSuspended},
		{"2026-11-21", "2026-11-30", ""},
		{"2024-01-01", "2024-01-05", "not_yet_valid"},
		{"2024-03-15", "2024-03-16", ""}, // entered active on its first valid day
	} {
		status, _, _, ok := h.InactiveDuring(day(tt.from), day(tt.to))
		if ok != (tt.status == "") || status != tt.status {
			t.Errorf("%s..%s: %q (active %v), want %q", tt.from, tt.to, status, ok, tt.status)
		}
	}
	to := day("2026-12-31")
	h.ValidTo = &to
	if status, _, _, _ := h.InactiveDuring(day("2026-12-30"), day("2027-01-02")); status != "expired" {
		t.Errorf("past its validity: %q", status)
	}
}
