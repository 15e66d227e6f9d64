from .config_utils import (apply_train_shortcuts, check_data_root, set_data_root, set_submission_file,
                           use_val_split_for_test)

__all__ = ['apply_train_shortcuts', 'check_data_root', 'set_data_root', 'set_submission_file',
           'use_val_split_for_test']
