package vntext

import (
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestClean(t *testing.T) {
	decomposed := norm.NFD.String("Cà phê Đắk Lắk")
	tests := []struct{ name, in, want string }{
		{"nfd becomes nfc", decomposed, "Cà phê Đắk Lắk"},
		{"spaces collapse", "  Ea \t Kiết\u00a0 ", "Ea Kiết"},
		{"empty", "   ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clean(tt.in)
			if got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !norm.NFC.IsNormalString(got) {
				t.Errorf("Clean(%q) is not NFC", tt.in)
			}
		})
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Cà phê", "ca phe"},
		{norm.NFD.String("Sầu Riêng"), "sau rieng"},
		{"ĐẮK LẮK", "dak lak"},
		{"Hồ  tiêu ", "ho tieu"},
		{"Ea H'Leo", "ea h'leo"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSearchKey(t *testing.T) {
	for in, want := range map[string]string{"Xã Cư M'gar": "xa cu mgar", "Phường Văn Miếu - Quốc Tử Giám": "phuong van mieu quoc tu giam", "cu mgar": "cu mgar"} {
		if got := SearchKey(in); got != want {
			t.Errorf("SearchKey(%q) = %q, want %q", in, got, want)
		}
	}
}
