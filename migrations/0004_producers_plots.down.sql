DROP TABLE plot_history;
DROP FUNCTION plot_keep_history() CASCADE;
DROP TABLE plot;
DROP TABLE producer;
DROP TABLE crop;
