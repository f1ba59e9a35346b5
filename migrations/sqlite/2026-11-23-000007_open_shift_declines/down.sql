DROP TABLE open_shift_declines;
