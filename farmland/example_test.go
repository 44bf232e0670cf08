package farmland_test

import (
	"fmt"
	"log"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/farmland"
)

func ExampleGenerate() {
	opts := farmland.Options{
		Seed:   1,
		Center: orb.Point{108.05, 12.68}, // Buôn Ma Thuột, Đắk Lắk
		Count:  500,
	}
	parcels, err := farmland.Generate(opts)
	if err != nil {
		log.Fatal(err)
	}
	clusters := map[int]bool{}
	inRange := true
	for _, p := range parcels {
		clusters[p.Cluster] = true
		inRange = inRange && p.AreaHa >= 0.05 && p.AreaHa <= 5
	}
	ring := parcels[0].Polygon[0]
	fmt.Printf("%d parcels in %d clusters\n", len(parcels), len(clusters))
	fmt.Println("areas within 0.05-5 ha:", inRange)
	fmt.Println("first ring closed:", ring[0] == ring[len(ring)-1])
	fmt.Println("roads to draw:", len(farmland.Roads(opts)) > 0)
	// Output:
	// 500 parcels in 2 clusters
	// areas within 0.05-5 ha: true
	// first ring closed: true
	// roads to draw: true
}

func ExampleStream() {
	var total float64
	err := farmland.Stream(farmland.Options{Seed: 7, Count: 10000}, func(p farmland.Parcel) error {
		total += p.AreaHa // write p to the database here instead of keeping it
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("streamed more than 1000 ha:", total > 1000)
	// Output:
	// streamed more than 1000 ha: true
}
