/**
 * Linear attenuation coefficients (per mm) at a knee radiograph's effective energy (about
 * 50-60 keV), relative values chosen so that soft tissue, trabecular and cortical bone keep
 * their real contrast ratios. Bone values are the excess over the soft tissue they displace.
 */
export const MU_FAT = 0.0165;
export const MU_MUSCLE = 0.021;
export const MU_CANCELLOUS = 0.0125;
export const MU_CORTEX = 0.05;
