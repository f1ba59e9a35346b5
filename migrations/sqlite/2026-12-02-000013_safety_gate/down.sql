DROP TABLE shift_warnings;
DROP TABLE shift_holds;
