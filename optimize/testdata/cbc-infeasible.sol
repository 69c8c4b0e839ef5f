Infeasible - objective value 0.00000000
      0 z1                     0                       1
      1 z2                     0                       1
      2 y1                     1                       0
**       3 y2                     2                       0
