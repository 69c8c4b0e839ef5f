package customer

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Synthetic data: common Indian given names and surnames, and Bengaluru
// localities with their PIN codes, for demos. Combinations are random, so a
// generated person is fictitious.
var (
	givenNames = []string{"Aarav", "Aditi", "Akash", "Ananya", "Anil", "Arjun", "Bhavana", "Deepa", "Divya", "Ganesh",
		"Geetha", "Harish", "Kavya", "Kiran", "Lakshmi", "Mahesh", "Manjunath", "Meera", "Naveen", "Nandini",
		"Pooja", "Prakash", "Priya", "Rahul", "Ramesh", "Rekha", "Sanjay", "Savitha", "Shreya", "Suresh",
		"Shwetha", "Vijay", "Vinay", "Yamuna", "Farah", "Imran", "Joseph", "Mary", "Gurpreet", "Tenzin"}
	surnames = []string{"Rao", "Reddy", "Gowda", "Shetty", "Kumar", "Sharma", "Iyer", "Nair", "Hegde", "Patil",
		"Naik", "Kamath", "Bhat", "Menon", "Pillai", "Joshi", "Kulkarni", "Desai", "Khan", "D'Souza",
		"Singh", "Das", "Murthy", "Prasad", "Acharya"}
	streets = []string{"1st Main Road", "2nd Cross", "4th Block", "8th Main", "Temple Street", "Lake View Road",
		"Church Street", "100 Feet Road", "Railway Parallel Road", "MG Layout"}
	localities = []struct{ name, pin string }{
		{"Jayanagar", "560041"}, {"Basavanagudi", "560004"}, {"Malleshwaram", "560003"}, {"Indiranagar", "560038"},
		{"Koramangala", "560034"}, {"Rajajinagar", "560010"}, {"Banashankari", "560050"}, {"Whitefield", "560066"},
		{"Yelahanka", "560064"}, {"HSR Layout", "560102"}, {"Vijayanagar", "560040"}, {"RT Nagar", "560032"},
	}
	loadsW = []int64{1000, 1000, 2000, 2000, 3000, 4000, 5000, 1500, 7500}
)

// Synthesize returns n fictitious customers, a deterministic function of
// seed. Meter ids are meterPrefix followed by the index (e.g. "m-0007"), so
// they can match a simulated producer fleet.
func Synthesize(seed uint64, n int, tariff, meterPrefix string) []Customer {
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
	}
	rng := rand.New(rand.NewChaCha8(key))
	out := make([]Customer, n)
	for i := range out {
		given := givenNames[rng.IntN(len(givenNames))]
		sur := surnames[rng.IntN(len(surnames))]
		loc := localities[rng.IntN(len(localities))]
		local := strings.ToLower(given) + "." + strings.ToLower(strings.ReplaceAll(sur, "'", ""))
		out[i] = Customer{
			ID:    fmt.Sprintf("KA-%06d", i+1),
			Name:  given + " " + sur,
			Email: fmt.Sprintf("%s%d@example.in", local, rng.IntN(100)),
			Phone: fmt.Sprintf("+91%d%09d", 6+rng.IntN(4), rng.IntN(1_000_000_000)),
			Address: Address{
				Street:   fmt.Sprintf("No. %d, %s", 1+rng.IntN(400), streets[rng.IntN(len(streets))]),
				Locality: loc.name, City: "Bengaluru", PIN: loc.pin,
			},
			AccountNumber:   fmt.Sprintf("%010d", rng.Int64N(10_000_000_000)),
			SanctionedLoadW: loadsW[rng.IntN(len(loadsW))],
			Tariff:          tariff,
			MeterID:         fmt.Sprintf("%s%04d", meterPrefix, i),
		}
	}
	return out
}
