"""Many halls in one deployment: the hierarchy of halls, the directory that finds each
hall's database and config, the regional overview and cases carried across halls."""
