DROP TABLE seasonal_report;
DROP TABLE inspection;
DROP TABLE application;
