// Package model is the sensitivity model of FDDM: features of a meter
// reading, labels a meter computes from its own readings, and a logistic
// regression that scores how revealing a reading is.
//
// # Notation
//
// A meter's history is x_0, x_1, … (Wh per interval). Its baseline is
// b = (β, m): β the 10th percentile of its own readings (standby and
// thermostat load, what the home draws when nobody does anything) and m the
// median. With s = m + 10 Wh as the household's scale, reading i has the
// features (Dim of them, the first a constant 1 for the bias):
//
//	sin(2πh/24), cos(2πh/24)   h the hour of day (fractional) the interval starts
//	weekend                    1 on Saturday and Sunday
//	level   ln((x_i + 10)/s)   level against the household's own baseline
//	above   ln(1 + (x_i − β)⁺/s)
//	step    ln(1 + |x_i − x_{i−1}|/s)   step change from the previous reading
//	var     ln(1 + σ(x_{i−3..i})/s)     short-window variability (σ: std. dev.)
//
// Features are scale-free, so one model fits households of any size.
//
// # Labels
//
// A meter cannot know whether anyone was at home; it can detect its own
// appliance switching and activity. Reading i is labelled revealing (1) when
// x_i − β ≥ Labels.LevelWh (a load above standby that someone switched on) or
// |x_i − x_{i−1}| ≥ Labels.StepWh (a switching event). Ground truth from the
// synthetic household model is never used for training, only to evaluate.
//
// # Model
//
// p(revealing | x) = σ(w·φ(x)), σ(z) = 1/(1+e^−z), fitted by full-batch
// gradient descent on the mean log loss with an L2 penalty λ/2·|w|² (bias
// excluded). Full-batch steps make a FedAvg round with one local epoch equal
// to one central step, which the fedavg tests use.
package model
