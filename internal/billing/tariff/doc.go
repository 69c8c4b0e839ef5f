// Package tariff is the billing tariff engine: versioned schedules decoded
// from YAML and validated, and an exact computation of a bill's charges in
// integer paise (1 rupee = 100 paise).
//
// # Notation
//
// Usage is given in watt-hours (Wh), as the aggregation network recovers it;
// rates are in paise per kWh, so a charge is Wh·rate/1000 paise, rounded half
// away from zero once per charge line. A schedule has
//
//   - a fixed charge F paise per kW of sanctioned load per month (a part of a
//     kW counted as a whole kW when part_kw is "ceil");
//   - energy slabs (u_1, r_1), …, (∞, r_m): the units up to u_1 kWh at r_1,
//     the next ones up to u_2 at r_2, and so on; the charge is E;
//   - optional time-of-use bands b with multipliers m_b (basis points,
//     10000 = 100%): band b adds E·(W_b/W)·(m_b−10000)/10000, W_b the band's
//     Wh and W the total, so the slab structure stays intact and a flat
//     load profile pays the flat price;
//   - per-unit surcharges s paise/kWh (outside the tax base unless listed);
//   - a tax at rate_bp basis points on the listed base components;
//   - a rounding rule for the total ("nearest-rupee": half a rupee rounds up,
//     shown as its own line) and the days from bill date to due date.
//
// The built-in schedules are embedded ([Builtin], [Load]): the Karnataka
// LT-2(a) domestic schedule for FY2025-26 from the KERC tariff order of
// 27 March 2025, and a time-of-day example built on it. Each file cites its
// source.
//
// # References
//
//   - Karnataka Electricity Regulatory Commission, Tariff Order 2025 for
//     BESCOM, MESCOM, CESC, HESCOM and GESCOM, 27 March 2025 (FY2025-26).
package tariff
