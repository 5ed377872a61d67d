import { installFastCpuKernels } from './engine/kernels/install';

installFastCpuKernels();
