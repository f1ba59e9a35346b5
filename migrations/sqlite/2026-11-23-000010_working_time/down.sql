DROP TABLE pa_working_time;
