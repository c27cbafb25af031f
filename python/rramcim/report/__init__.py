"""Reports: summary tables, plots and the HTML page written by ``make sim``."""
