// Package household generates synthetic smart-meter readings with ground
// truth: a seeded, deterministic model of a household's occupants and
// appliances, streamed one interval at a time so that millions of
// meter-days never sit in memory.
//
// # Model
//
// Time runs in minutes from [Options.Start] (midnight UTC of day 0). Each
// day d of meter m is generated from its own random stream, derived from
// (seed, m, d) alone, plus the spill of day d−1 (events started in a window
// ending at midnight run on past it, up to two cycle lengths), so any
// meter's series — or any single day of it — can be regenerated
// independently, in parallel and out of order.
//
// Occupancy is a Markov chain on the number of active occupants (at home and
// awake) per 10-minute step, in the manner of Richardson et al. (2008). A
// household has n residents (drawn once per meter from [Options.Occupants]).
// Each resident is active or not; in step s of a day, with target
// probability π(s) (the hourly profile [Options.Weekday] or
// [Options.Weekend]) and persistence ρ ([Options.Persistence]),
//
//	P(inactive → active) = (1−ρ)·π(s),   P(active → inactive) = (1−ρ)·(1−π(s)),
//
// so π(s) is the stationary probability of being active and ρ is the
// one-step correlation; the active count A_s ∈ {0..n} is a Markov chain
// with binomial transitions. A day starts with each resident active with
// probability π(0), which keeps days independent of each other.
//
// Appliances follow the bottom-up approach of RAMP (Lombardi et al. 2019):
// an appliance has a rated power, a standby power, a number of units, an
// ownership probability, use windows in the day, a mean daily use time with
// a variability, a minimum cycle length (the shortest a switch-on lasts), a
// probability of being used at all on a given day, and optionally the
// months it is used in and whether it needs an active occupant to be
// switched on. Each day, for each owned unit, a total use time is drawn
// uniformly in DailyMinutes·(1 ± Variability); switch-on events at random
// minutes of the windows, each lasting between one and two cycle lengths,
// are added until that total is reached (or a bounded number of attempts
// fails, e.g. when nobody is active). Thermostat appliances (a fridge) run
// instead in on/off cycles ([Appliance.Cycling]) all day, with ±20% jitter
// per phase. Power is summed per minute; a reading is the energy of one
// interval ([Options.Interval], a multiple of one minute) in Wh, rounded to
// the nearest Wh.
//
// [DefaultOptions] describes an Indian urban household (ceiling fans, tube
// lights, fridge, geyser, iron, washing machine, TV, mixer, AC, water pump);
// every parameter can be changed in a YAML file read by [LoadOptions].
//
// # Ground truth
//
// With each reading come the facts a privacy attack would try to infer:
// the largest number of active occupants during the interval, whether the
// home was occupied (some occupant active), and which appliances ran (a bit
// mask over [Options.Appliances]).
//
// # References
//
//   - I. Richardson, M. Thomson, D. Infield, A. Delahunty, "Domestic
//     lighting: a high-resolution energy demand model", Energy and
//     Buildings 41(7), 2009; and "A high-resolution domestic building
//     occupancy model for energy demand simulations", Energy and Buildings
//     40(8), 2008.
//   - F. Lombardi, S. Balderrama, S. Quoilin, E. Colombo, "Generating
//     high-resolution multi-energy load profiles for remote areas with an
//     open-source stochastic model" (RAMP), Energy 177, 2019.
package household
