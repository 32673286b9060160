/*
 * A stand-in for NVIDIA's libnvidia-ml.so.1, for scripts/test-prometheus on machines without
 * an NVIDIA GPU: the sidecar loads it through its real NVML code path (nvml-wrapper dlopens
 * "libnvidia-ml.so.1", found here through LD_LIBRARY_PATH), so the per-GPU series the Grafana
 * dashboard and the gpu_temp_high alert read exist and move.
 *
 * Only the calls the collector makes are here (nvml-wrapper resolves every other symbol lazily
 * and never calls it). Two GPUs; the encoder load and temperature follow the clock so the
 * series are not flat. Return codes: 0 = NVML_SUCCESS, 2 = NVML_ERROR_INVALID_ARGUMENT.
 *
 *   cc -shared -fPIC -o libnvidia-ml.so.1 fake_nvml.c
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef int nvmlReturn_t;
typedef struct fake_device { unsigned int index; } *nvmlDevice_t;

typedef struct {
    unsigned int version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_v2_t;

#define GPUS 2
static struct fake_device devices[GPUS] = {{0}, {1}};
static const unsigned long long total_bytes[GPUS] = {16ULL << 30, 8ULL << 30};

static unsigned int wave(unsigned int index, unsigned int low, unsigned int span) {
    return low + (unsigned int)((time(NULL) / 2 + index * 7) % span);
}

nvmlReturn_t nvmlInit_v2(void) { return 0; }
nvmlReturn_t nvmlInitWithFlags(unsigned int flags) { (void)flags; return 0; }
nvmlReturn_t nvmlShutdown(void) { return 0; }
const char *nvmlErrorString(nvmlReturn_t r) { return r == 0 ? "Success" : "Invalid Argument"; }

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    if (!count) return 2;
    *count = GPUS;
    return 0;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (!device || index >= GPUS) return 2;
    *device = &devices[index];
    return 0;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    if (!device || !name || length == 0) return 2;
    snprintf(name, length, "Stub NVML GPU %u", device->index);
    return 0;
}

nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t device, unsigned int *utilization,
                                             unsigned int *sampling_period_us) {
    if (!device || !utilization || !sampling_period_us) return 2;
    *utilization = wave(device->index, 20, 50);
    *sampling_period_us = 1000000;
    return 0;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory) {
    if (!device || !memory) return 2;
    unsigned long long total = total_bytes[device->index];
    memory->total = total;
    memory->reserved = 0;
    memory->used = total / 100 * wave(device->index, 10, 40);
    memory->free = total - memory->used;
    return 0;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int *temp) {
    if (!device || !temp || sensor != 0) return 2;
    *temp = wave(device->index, 45, 30);
    return 0;
}
