-- templates.clan: the clan definition (domain/model ClanDefinition) that makes the template's events cooperative.
ALTER TABLE `templates` ADD `clan` text;