"""好差评: citizens' ratings per the national scheme and the loop that follows a bad one.

* ``ratings`` — the five levels, reason tags, rating a visit (ticket) or a case item, 追评;
  the signed rating link of the result notice.
* ``rectification`` — every 不满意/非常不满意 opens a rectification: owner, deadline of 15
  working days, call-back, answer, staff appeal; audited step by step.
* ``figures`` — rating rate, good-rating rate, rectified on time, call-back rate per hall,
  department, window, clerk and item.
* ``export`` — ratings and rectifications to the provincial evaluation platform through the
  hand-off outbox.
* ``models`` — the tables.
"""
