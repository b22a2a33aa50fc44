ALTER TABLE `series` ADD `count_scheduled` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `series` ADD `count_shifted` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `series` ADD `count_skipped` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `series` ADD `count_cancelled` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- The list's counts per status, kept by triggers as series_occurrences rows are written (an upsert's update fires
-- the update trigger), so GET /v1/admin/series reads them instead of grouping each series' whole history.
UPDATE `series` SET
  `count_scheduled` = (SELECT COUNT(*) FROM `series_occurrences` o WHERE o.`series_id` = `series`.`series_id` AND o.`status` = 'scheduled'),
  `count_shifted` = (SELECT COUNT(*) FROM `series_occurrences` o WHERE o.`series_id` = `series`.`series_id` AND o.`status` = 'shifted'),
  `count_skipped` = (SELECT COUNT(*) FROM `series_occurrences` o WHERE o.`series_id` = `series`.`series_id` AND o.`status` = 'skipped'),
  `count_cancelled` = (SELECT COUNT(*) FROM `series_occurrences` o WHERE o.`series_id` = `series`.`series_id` AND o.`status` = 'cancelled');--> statement-breakpoint
CREATE TRIGGER `series_occurrences_count_insert` AFTER INSERT ON `series_occurrences` BEGIN
  UPDATE `series` SET `count_scheduled` = `count_scheduled` + (NEW.`status` = 'scheduled'), `count_shifted` = `count_shifted` + (NEW.`status` = 'shifted'),
    `count_skipped` = `count_skipped` + (NEW.`status` = 'skipped'), `count_cancelled` = `count_cancelled` + (NEW.`status` = 'cancelled')
  WHERE `series_id` = NEW.`series_id`;
END;--> statement-breakpoint
CREATE TRIGGER `series_occurrences_count_update` AFTER UPDATE OF `status` ON `series_occurrences` WHEN OLD.`status` IS NOT NEW.`status` BEGIN
  UPDATE `series` SET
    `count_scheduled` = `count_scheduled` + (NEW.`status` = 'scheduled') - (OLD.`status` = 'scheduled'),
    `count_shifted` = `count_shifted` + (NEW.`status` = 'shifted') - (OLD.`status` = 'shifted'),
    `count_skipped` = `count_skipped` + (NEW.`status` = 'skipped') - (OLD.`status` = 'skipped'),
    `count_cancelled` = `count_cancelled` + (NEW.`status` = 'cancelled') - (OLD.`status` = 'cancelled')
  WHERE `series_id` = NEW.`series_id`;
END;--> statement-breakpoint
CREATE TRIGGER `series_occurrences_count_delete` AFTER DELETE ON `series_occurrences` BEGIN
  UPDATE `series` SET `count_scheduled` = `count_scheduled` - (OLD.`status` = 'scheduled'), `count_shifted` = `count_shifted` - (OLD.`status` = 'shifted'),
    `count_skipped` = `count_skipped` - (OLD.`status` = 'skipped'), `count_cancelled` = `count_cancelled` - (OLD.`status` = 'cancelled')
  WHERE `series_id` = OLD.`series_id`;
END;--> statement-breakpoint
-- A series row written after some of its occurrences (not the outbox's order, but cheap to be sure of): counted once.
CREATE TRIGGER `series_count_insert` AFTER INSERT ON `series` BEGIN
  UPDATE `series` SET
    `count_scheduled` = (SELECT COUNT(*) FROM `series_occurrences` o WHERE o.`series_id` = NEW.`series_id` AND o.`status` = 'scheduled'),
    `count_shifted` = (SELECT COUNT(*) FROM `series_occurrences` o WHERE o.`series_id` = NEW.`series_id` AND o.`status` = 'shifted'),
    `count_skipped` = (SELECT COUNT(*) FROM `series_occurrences` o WHERE o.`series_id` = NEW.`series_id` AND o.`status` = 'skipped'),
    `count_cancelled` = (SELECT COUNT(*) FROM `series_occurrences` o WHERE o.`series_id` = NEW.`series_id` AND o.`status` = 'cancelled')
  WHERE `series_id` = NEW.`series_id`;
END;
