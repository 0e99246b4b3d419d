/* tests/consumers/app/my_tarn_config.h - a user configuration file, named by
 * -DTARN_CONFIG_FILE='"my_tarn_config.h"' when both the library and the application are
 * compiled.  Every option is one the defaults do not use, so the consumer program can
 * tell that the file was read. */
#ifndef MY_TARN_CONFIG_H
#define MY_TARN_CONFIG_H

#define TARN_ALIGN 16u
#define TARN_CHECK_LEVEL 2
#define TARN_POISON_FREE 1
#define TARN_POISON_BYTE 0x5Au

#endif
