DROP TABLE swap_requests;
