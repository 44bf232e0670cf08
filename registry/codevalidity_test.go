package registry

import (
	"strings"
	"testing"
	"time"
)

func TestSettleValidity(t *testing.T) {
	d := func(s string) *time.Time {
		v, _ := time.Parse(time.DateOnly, s)
		return &v
	}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name               string
		from               string
		c                  CodeStatusChange
		storedFrom, stored *time.Time
		wantFrom, wantTo   string
		wantErr            string
	}{
		{"an issue starts today", CodeInspected, CodeStatusChange{To: CodeActive, ValidTo: d("2028-12-31")}, nil, nil, "2026-12-04", "2028-12-31", ""},
		{"an issue that ends before it begins", CodeInspected, CodeStatusChange{To: CodeActive, ValidFrom: d("2027-01-10"), ValidTo: d("2027-01-01")}, nil, nil, "", "", "valid_to 2027-01-01 is before valid_from 2027-01-10"},
		{"an issue already over", CodeInspected, CodeStatusChange{To: CodeActive, ValidFrom: d("2025-01-01"), ValidTo: d("2026-12-03")}, nil, nil, "", "", "valid_to 2026-12-03 has passed"},
		{"a reinstatement keeps the validity", CodeSuspended, CodeStatusChange{To: CodeActive}, d("2025-03-01"), d("2028-02-28"), "2025-03-01", "2028-02-28", ""},
		{"a reinstatement may repeat the dates", CodeSuspended, CodeStatusChange{To: CodeActive, ValidFrom: d("2025-03-01")}, d("2025-03-01"), d("2028-02-28"), "2025-03-01", "2028-02-28", ""},
		{"a reinstatement may not move them", CodeSuspended, CodeStatusChange{To: CodeActive, ValidFrom: d("2026-12-01")}, d("2025-03-01"), d("2028-02-28"), "", "", "reinstating keeps the code's validity (2025-03-01 to 2028-02-28)"},
		{"a renewal needs valid_to", CodeExpired, CodeStatusChange{To: CodeActive}, d("2024-01-01"), d("2026-11-30"), "", "", "needs its new valid_to (it ended on 2026-11-30)"},
		{"a renewal keeps valid_from", CodeExpired, CodeStatusChange{To: CodeActive, ValidTo: d("2029-11-30")}, d("2024-01-01"), d("2026-11-30"), "2024-01-01", "2029-11-30", ""},
		{"a suspension keeps the dates", CodeActive, CodeStatusChange{To: CodeSuspended}, d("2024-01-01"), d("2027-11-30"), "2024-01-01", "2027-11-30", ""},
		{"a suspension does not change them", CodeActive, CodeStatusChange{To: CodeRevoked, ValidTo: d("2026-12-31")}, d("2024-01-01"), d("2027-11-30"), "", "", "keeps its validity: leave valid_to out"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			err := c.SettleValidity(tt.from, tt.storedFrom, tt.stored, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(ErrorMessage(err), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := dayOr(c.ValidFrom) + " " + dayOr(c.ValidTo); got != tt.wantFrom+" "+tt.wantTo {
				t.Errorf("validity %s, want %s %s", got, tt.wantFrom, tt.wantTo)
			}
		})
	}
}
